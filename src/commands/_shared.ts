/**
 * Flags every command accepts, and the context they resolve to (directories, config, output).
 * Lean on purpose: `status` loads this on its fast path.
 */
import { DURATION_HINT, parseDuration } from "../schema/units.ts";
import { CliError, UsageError } from "../errors.ts";
import { findConfigPath, loadConfigDaemonNames, usableDirs } from "../daemon/definition/locate.ts";
import { knownAndConfigured, leftTraces, unknownDaemonMessage } from "../daemon/state/known.ts";
import { isValidName, type Dirs } from "../daemon/state/paths.ts";
import { DEFAULT_PROBE_TIMEOUT_MS } from "../daemon/owner/probe.ts";
import { str, type FlagSpecs, type ParsedArgv } from "./_argv.ts";
import { isTerminal } from "../platform/files.ts";

export const globalFlags = {
  "runtime-dir": { type: "string", description: "Runtime directory (sockets, metadata, locks); env DAEMONCTL_RUNTIME_DIR", valueHint: "DIR" },
  "state-dir": { type: "string", description: "State directory (run intent, definitions, logs); env DAEMONCTL_STATE_DIR", valueHint: "DIR" },
  config: { type: "string", description: "Config file; env DAEMONCTL_CONFIG, default ./daemonctl.json", valueHint: "FILE" },
  "log-level": { type: "string", description: "silent, error, warn, info or debug", valueHint: "LEVEL" },
  quiet: { type: "boolean", alias: "q", description: "Only errors on stderr" },
  verbose: { type: "boolean", alias: "v", counted: true, description: "Debug output on stderr (supervise -- CMD: more with each -v, like tini)" },
  color: { type: "boolean", description: "Colour in human output (--no-color or NO_COLOR to disable)" },
} as const satisfies FlagSpecs;

export const probeTimeoutFlag = {
  "probe-timeout": { type: "string", description: "How long a daemon has to answer a status probe (default 500ms)", valueHint: "DURATION" },
} as const satisfies FlagSpecs;

export const jsonFlag = {
  json: { type: "boolean", description: "Print the result as JSON on stdout" },
} as const satisfies FlagSpecs;

export function withGlobals<T extends FlagSpecs>(own: T): T & typeof globalFlags {
  return { ...own, ...globalFlags };
}

export function durationFlag(p: ParsedArgv, key: string, fallback: number): number;
export function durationFlag(p: ParsedArgv, key: string, fallback?: number): number | undefined;
export function durationFlag(p: ParsedArgv, key: string, fallback?: number): number | undefined {
  const v = str(p, key);
  if (v === undefined) return fallback;
  const ms = parseDuration(v);
  if (ms === null) throw new UsageError(`--${key}: "${v}" is not a duration; ${DURATION_HINT}`);
  return ms;
}

export function probeTimeout(p: ParsedArgv): number {
  return durationFlag(p, "probe-timeout", DEFAULT_PROBE_TIMEOUT_MS);
}

export function checkName(name: string): string {
  if (!isValidName(name)) {
    throw new UsageError(`invalid daemon name "${name}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

/**
 * Directories from flags, environment and (only its directory keys) the config file. Flags and
 * environment win over the config, so when they name both directories the config is not read.
 */
export async function dirsFrom(p: ParsedArgv, env = process.env): Promise<Dirs> {
  return usableDirs({ runtimeDir: str(p, "runtime-dir"), stateDir: str(p, "state-dir") }, () => configPathOf(p), env);
}

/** --no-color and NO_COLOR turn colour off everywhere. */
export function colourAllowed(p: ParsedArgv): boolean {
  return p.flags.color !== false && !process.env.NO_COLOR;
}

/** Colour for results on stdout: a terminal, unless --no-color or NO_COLOR; never when piped. */
export async function wantsStdoutColor(p: ParsedArgv): Promise<boolean> {
  return colourAllowed(p) && (await isTerminal(1));
}

export function wantsColor(p: ParsedArgv, stream: { isTTY?: boolean } = process.stderr): boolean {
  return colourAllowed(p) && Boolean(stream.isTTY);
}

export function requireOneName(p: ParsedArgv, command: string): string {
  if (p.positionals.length !== 1) throw new UsageError(`\`daemonctl ${command}\` takes exactly one daemon name (got ${p.positionals.length})`);
  return checkName(p.positionals[0]!);
}

/**
 * Names defined nowhere: no state file, socket or metadata, and not in the config file (read
 * only when a name left no trace, so the usual case costs a few lstats).
 */
async function undefinedNames(p: ParsedArgv, dirs: Dirs, names: string[]): Promise<{ unknown: string[]; known: () => string[] }> {
  const traceless = names.filter((n) => !leftTraces(dirs, n));
  const inConfig = traceless.length ? await configuredNames(p) : [];
  return {
    unknown: traceless.filter((n) => !inConfig.includes(n)),
    known: () => knownAndConfigured(dirs, inConfig),
  };
}

/** The daemon names of the config file, read lightly (its keys only), or none without one. */
export async function configuredNames(p: ParsedArgv): Promise<string[]> {
  const found = await configPathOf(p);
  return found ? loadConfigDaemonNames(found.path) : [];
}

/**
 * One lookup per command: `status NAME` of a name that left no trace asks for the config file
 * twice (its directories, then its daemon names), and without --config that is a stat each time.
 */
const configPaths = new WeakMap<ParsedArgv, ReturnType<typeof findConfigPath>>();
function configPathOf(p: ParsedArgv): ReturnType<typeof findConfigPath> {
  let found = configPaths.get(p);
  if (!found) configPaths.set(p, (found = findConfigPath(str(p, "config"))));
  return found;
}

/**
 * Fails (exit 2, `--json` error code `unknown-daemon`) when a name is defined nowhere, as
 * `systemctl` does for an unknown unit. For commands that act on existing daemons: stop, restart,
 * logs, signal. `hint` adds to the message, given the unknown names (restart's missing `--`).
 */
export async function requireKnownNames(p: ParsedArgv, dirs: Dirs, names: string[], hint: (unknown: string[]) => string = () => ""): Promise<void> {
  const { unknown, known } = await undefinedNames(p, dirs, names);
  if (unknown.length) throw new CliError(`${unknownDaemonMessage(unknown, known())}${hint(unknown)}`, 2, "unknown-daemon");
}
