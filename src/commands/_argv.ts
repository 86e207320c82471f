/**
 * Strict command-line parsing for every command.
 *
 * citty gives us the command tree, lazy loading and `--help`; its parser is deliberately lenient
 * (unknown flags are ignored, a repeated flag keeps its last value), which is wrong for a tool
 * whose typos would otherwise start the wrong daemon. The same flag tables feed both: citty
 * renders help from them, this parser enforces them. It has no dependencies, so `status` can use
 * it on its fast path.
 */
import { UsageError } from "../errors.ts";

export interface FlagSpec {
  type: "string" | "boolean" | "positional";
  description: string;
  alias?: string | string[];
  default?: string | boolean;
  valueHint?: string;
  /** String flag that may repeat (`--watch a --watch b`); collected into an array. */
  multiple?: boolean;
  /** Boolean flag whose repetitions count (`-vvv`, `-v -v`): the value is how many times. */
  counted?: boolean;
  required?: boolean;
}
export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgv {
  flags: Record<string, string | boolean | number | string[] | undefined>;
  positionals: string[];
  /** Everything after `--`, or null when there was no `--`. */
  rest: string[] | null;
}

export function parseArgv(argv: string[], specs: FlagSpecs, command: string): ParsedArgv {
  const byName = new Map<string, [string, FlagSpec]>();
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.type === "positional") continue;
    byName.set(key, [key, spec]);
    const aliases = spec.alias === undefined ? [] : Array.isArray(spec.alias) ? spec.alias : [spec.alias];
    for (const a of aliases) byName.set(a, [key, spec]);
  }
  const flags: ParsedArgv["flags"] = {};
  for (const [key, spec] of Object.entries(specs)) if (spec.type !== "positional" && spec.default !== undefined) flags[key] = spec.default;
  const positionals: string[] = [];
  let rest: string[] | null = null;
  const unknown = (flag: string) =>
    new UsageError(`unknown option ${flag} for \`daemonctl ${command}\` (see \`daemonctl ${command} --help\`)`);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      // -q, -v, -n 5, and getopt's clusters, as tini and dumb-init users write them: boolean
      // short flags (-qv, -vvv), then at most one that takes a value, from the rest of the
      // cluster or the next argument (-n5, -e143, -sp SIGTERM).
      const letters = arg.slice(1);
      const cut = letters.length > 1 ? clusterValueAt(letters, byName) : -1;
      if (cut === letters.length) {
        for (const l of letters) setBoolean(flags, ...byName.get(l)!, true);
        continue;
      }
      if (cut >= 0) {
        for (const l of letters.slice(0, cut)) setBoolean(flags, ...byName.get(l)!, true);
        name = letters[cut]!;
        inline = letters.length > cut + 1 ? letters.slice(cut + 1) : undefined;
      } else name = letters;
    }
    let entry = byName.get(name);
    if (!entry && name.startsWith("no-") && inline === undefined) {
      const negated = byName.get(name.slice(3));
      if (negated) {
        flags[negated[0]] = false;
        continue;
      }
    }
    if (!entry) throw unknown(arg.startsWith("--") ? `--${name}` : arg);
    const [key, spec] = entry;
    if (spec.type === "boolean") {
      if (inline !== undefined && !/^(true|false|1|0)$/.test(inline)) throw new UsageError(`option --${key} takes no value (got "${inline}")`);
      setBoolean(flags, key, spec, inline === undefined ? true : inline === "true" || inline === "1");
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`option --${key} needs a value${spec.valueHint ? ` (${spec.valueHint})` : ""}`);
    }
    if (spec.multiple) {
      const prev = flags[key];
      flags[key] = Array.isArray(prev) ? [...prev, value] : [value];
    } else flags[key] = value;
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.required && spec.type !== "positional" && flags[key] === undefined) throw new UsageError(`option --${key} is required`);
  }
  return { flags, positionals, rest };
}

/**
 * For a short-flag cluster: the index of its one flag that takes a value (booleans before it),
 * its length when every letter is a boolean flag, or -1 when it is no cluster at all (`-only`
 * still names --only).
 */
function clusterValueAt(letters: string, byName: Map<string, [string, FlagSpec]>): number {
  for (let i = 0; i < letters.length; i++) {
    const spec = byName.get(letters[i]!)?.[1];
    const short = spec && [spec.alias].flat().includes(letters[i]);
    if (!short) return -1;
    if (spec.type === "string") return i;
  }
  return letters.length;
}

function setBoolean(flags: ParsedArgv["flags"], key: string, spec: FlagSpec, on: boolean): void {
  if (!spec.counted) flags[key] = on;
  else flags[key] = on ? (typeof flags[key] === "number" ? flags[key] : 0) + 1 : 0;
}

export function str(p: ParsedArgv, key: string): string | undefined {
  const v = p.flags[key];
  return typeof v === "string" ? v : undefined;
}

export function bool(p: ParsedArgv, key: string): boolean {
  const v = p.flags[key];
  return v === true || (typeof v === "number" && v > 0);
}

/** How many times a counted flag was given (0 when absent or negated). */
export function count(p: ParsedArgv, key: string): number {
  const v = p.flags[key];
  return typeof v === "number" ? v : v === true ? 1 : 0;
}

export function list(p: ParsedArgv, key: string): string[] {
  const v = p.flags[key];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}
