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
      // -q, -v, -n 5, and bundles of boolean short flags like -qv
      const letters = arg.slice(1);
      if (letters.length > 1 && [...letters].every((l) => byName.get(l)?.[1].type === "boolean")) {
        for (const l of letters) setBoolean(flags, ...byName.get(l)!, true);
        continue;
      }
      name = letters;
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
