/**
 * Strict command-line parsing for every command.
 *
 * citty gives us the command tree, lazy loading and `--help`; its parser is deliberately lenient
 * (unknown flags are ignored, a repeated flag keeps its last value), which is wrong for a tool
 * whose typos would otherwise start the wrong daemon. The same flag tables feed both: citty
 * renders help from them, this parser enforces them. It has no dependencies, so `status` can use
 * it on its fast path.
 */
import { UsageError, didYouMean } from "../errors.ts";

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
  /**
   * String flag whose value may be left out (`--procfile` alone means `./Procfile`): this is the
   * value then. Given as `--flag=VALUE`, or as the next word unless that is an option or `--`.
   */
  optionalValue?: string;
}
export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgv {
  flags: Record<string, string | boolean | number | string[] | undefined>;
  positionals: string[];
  /** Where each positional stood in argv (to show a corrected command line). */
  positionalAt: number[];
  /** Everything after `--`, or null when there was no `--`. */
  rest: string[] | null;
}

type Flags = ParsedArgv["flags"];
/** Every name a flag answers to (its key and its aliases) → its key and spec. */
type FlagIndex = Map<string, [string, FlagSpec]>;
/** One option as written: its name, and the value attached to it (`--name=value`, `-n5`). */
interface Option {
  name: string;
  inline: string | undefined;
}

/** For commands that take a daemon's command after `--` (`start`, `restart`). */
export interface CommandAfterNames {
  /** How many daemon names come first (start: 1). */
  names: number;
  /** More positionals than `names` can only be a command missing its `--` (start), not more names. */
  noMoreNames?: boolean;
}

/**
 * `commandAfter`: a command word or an unknown flag (`-m` of `python3 -m http.server`) after the
 * names is taken for a daemon command missing its `--`, and the error shows the line with it.
 */
export function parseArgv(argv: string[], specs: FlagSpecs, command: string, commandAfter?: CommandAfterNames): ParsedArgv {
  const byName = flagIndex(specs);
  const parsed: ParsedArgv = { flags: defaults(specs), positionals: [], positionalAt: [], rest: null };
  const at = parsed.positionalAt;
  const onUnknown = (flag: string) => (commandAfter && missingDashDash(command, argv, at, commandAfter.names)) || unknownOption(flag, command, byName);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      parsed.rest = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      parsed.positionals.push(arg);
      at.push(i);
    } else i = takeOption(argv, i, byName, parsed.flags, onUnknown);
  }
  if (commandAfter?.noMoreNames && parsed.rest === null) {
    const e = missingDashDash(command, argv, at, commandAfter.names);
    if (e) throw e;
  }
  checkRequired(specs, parsed.flags);
  return parsed;
}

/** When positionals go beyond the names: the error that shows the command line with its `--`. */
function missingDashDash(command: string, argv: string[], positionalAt: number[], names: number): UsageError | null {
  const fixed = withDashDash(command, argv, positionalAt, names);
  if (fixed === null) return null;
  return new UsageError(`"${argv[positionalAt[names]!]}" looks like the daemon's command; it goes after "--", as in:\n  ${fixed}`);
}

/** The command line with `--` before the first positional past the names; null if there is none. */
export function withDashDash(command: string, argv: string[], positionalAt: number[], names: number): string | null {
  if (positionalAt.length <= names || names < 1) return null;
  const k = positionalAt[names]!;
  return ["daemonctl", command, ...argv.slice(0, k), "--", ...argv.slice(k).flatMap(splitPlainWords)].map(shellQuote).join(" ");
}

/**
 * `start w "python3 -m http.server"`: daemonctl runs argv without a shell, so one quoted string
 * would be one program name. Plain words (no quotes or shell syntax) are split for the suggestion.
 */
function splitPlainWords(word: string): string[] {
  return /\s/.test(word) && /^[\w@%+=:,./\s-]+$/.test(word) ? word.trim().split(/\s+/) : [word];
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

function flagIndex(specs: FlagSpecs): FlagIndex {
  const byName: FlagIndex = new Map();
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.type === "positional") continue;
    byName.set(key, [key, spec]);
    const aliases = spec.alias === undefined ? [] : Array.isArray(spec.alias) ? spec.alias : [spec.alias];
    for (const a of aliases) byName.set(a, [key, spec]);
  }
  return byName;
}

function defaults(specs: FlagSpecs): Flags {
  const flags: Flags = {};
  for (const [key, spec] of Object.entries(specs)) if (spec.type !== "positional" && spec.default !== undefined) flags[key] = spec.default;
  return flags;
}

/** Reads the option at argv[i] into `flags`; returns the index of the last argument it used. */
function takeOption(argv: string[], i: number, byName: FlagIndex, flags: Flags, onUnknown: (flag: string) => UsageError): number {
  const arg = argv[i]!;
  const opt = arg.startsWith("--") ? splitLong(arg) : splitShort(arg, byName, flags);
  if (opt === null) return i;
  const entry = byName.get(opt.name);
  if (!entry) {
    if (negates(opt, byName, flags)) return i;
    throw onUnknown(arg.startsWith("--") ? `--${opt.name}` : arg);
  }
  const [key, spec] = entry;
  if (spec.type === "boolean") {
    setBoolean(flags, key, spec, booleanValue(key, opt.inline));
    return i;
  }
  if (spec.optionalValue !== undefined && opt.inline === undefined && !takesNextWord(argv[i + 1])) {
    setString(flags, key, spec, spec.optionalValue);
    return i;
  }
  const value = opt.inline ?? argv[i + 1];
  if (value === undefined) throw new UsageError(`option --${key} needs a value${spec.valueHint ? ` (${spec.valueHint})` : ""}`);
  setString(flags, key, spec, value);
  return opt.inline === undefined ? i + 1 : i;
}

/** For a flag with an optional value: the next word is its value unless it is absent or an option. */
function takesNextWord(next: string | undefined): boolean {
  return next !== undefined && (next === "-" || !next.startsWith("-"));
}

function splitLong(arg: string): Option {
  const eq = arg.indexOf("=");
  return eq < 0 ? { name: arg.slice(2), inline: undefined } : { name: arg.slice(2, eq), inline: arg.slice(eq + 1) };
}

/**
 * -q, -v, -n 5, and getopt's clusters, as tini and dumb-init users write them: boolean
 * short flags (-qv, -vvv), then at most one that takes a value, from the rest of the
 * cluster or the next argument (-n5, -e143, -sp SIGTERM). Sets the cluster's booleans and
 * returns the option left to read, or null when there is none.
 */
function splitShort(arg: string, byName: FlagIndex, flags: Flags): Option | null {
  const letters = arg.slice(1);
  const cut = letters.length > 1 ? clusterValueAt(letters, byName) : -1;
  if (cut < 0) return { name: letters, inline: undefined };
  for (const l of letters.slice(0, cut)) setBoolean(flags, ...byName.get(l)!, true);
  if (cut === letters.length) return null;
  return { name: letters[cut]!, inline: letters.length > cut + 1 ? letters.slice(cut + 1) : undefined };
}

/** `--no-NAME` turns NAME off when no flag of that name exists; `--no-NAME=VALUE` never does. */
function negates(opt: Option, byName: FlagIndex, flags: Flags): boolean {
  if (!opt.name.startsWith("no-") || opt.inline !== undefined) return false;
  const negated = byName.get(opt.name.slice(3));
  if (!negated) return false;
  flags[negated[0]] = false;
  return true;
}

function unknownOption(flag: string, command: string, byName: FlagIndex): UsageError {
  const longNames = [...byName.keys()].filter((n) => n.length > 1);
  const hint = flag.startsWith("--") ? didYouMean(flag.slice(2), longNames, (n) => `--${n}`) : "";
  return new UsageError(`unknown option ${flag} for \`daemonctl ${command}\`${hint} (see \`daemonctl ${command} --help\`)`);
}

function booleanValue(key: string, inline: string | undefined): boolean {
  if (inline !== undefined && !/^(true|false|1|0)$/.test(inline)) throw new UsageError(`option --${key} takes no value (got "${inline}")`);
  return inline === undefined ? true : inline === "true" || inline === "1";
}

function setString(flags: Flags, key: string, spec: FlagSpec, value: string): void {
  if (spec.multiple) {
    const prev = flags[key];
    flags[key] = Array.isArray(prev) ? [...prev, value] : [value];
  } else flags[key] = value;
}

function checkRequired(specs: FlagSpecs, flags: Flags): void {
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.required && spec.type !== "positional" && flags[key] === undefined) throw new UsageError(`option --${key} is required`);
  }
}

/**
 * For a short-flag cluster: the index of its one flag that takes a value (booleans before it),
 * its length when every letter is a boolean flag, or -1 when it is no cluster at all (`-only`
 * still names --only).
 */
function clusterValueAt(letters: string, byName: FlagIndex): number {
  for (let i = 0; i < letters.length; i++) {
    const spec = byName.get(letters[i]!)?.[1];
    const short = spec && [spec.alias].flat().includes(letters[i]);
    if (!short) return -1;
    if (spec.type === "string") return i;
  }
  return letters.length;
}

function setBoolean(flags: Flags, key: string, spec: FlagSpec, on: boolean): void {
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

/**
 * A flag's value that cannot be used: names the flag and the value, says what was expected and
 * shows good ones (`--lines: "ten" is not a whole number; use 0, 50 or 200`); suggests the
 * closest of `choices` when there are some.
 */
export function badValue(flag: string, value: string, what: string, examples: string, choices: readonly string[] = []): UsageError {
  return new UsageError(`--${flag}: "${value}" is not ${what}; use ${examples}${didYouMean(value, choices)}`);
}
