/**
 * The library's operations on daemons, with `daemonctl`'s own semantics:
 *
 * - reading (status, list, the freshness check of ensureDaemon) is this process's own TypeScript:
 *   the same probe, identity checks and files the CLI uses, over node:net and node:fs;
 * - acting (starting a host, stopping, restarting) runs the daemonctl binary, because it holds
 *   the kernel file locks that make racing callers safe (flock: no node: API has it) and it is
 *   the program a host runs as. Its `--json` answer goes through the same schema.
 */
import { execFile } from "node:child_process";
import type { Status } from "../schema/status.ts";
import type { DefinitionInput } from "../schema/definition.ts";
import { PROTOCOL_VERSION, STATUS_SCHEMA } from "../schema/constants.ts";
import { INVALID, parseStatus } from "../schema/generated/validators.ts";
import { UsageError } from "../errors.ts";
import { collectStatus, markUndefined } from "../daemon/client/status-report.ts";
import { resolveDefinition, definitionToInput, type ResolvedDefinition } from "../daemon/definition/source.ts";
import { findConfigPath, loadConfigDaemonNames, usableDirs } from "../daemon/definition/locate.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import { DirError, isValidName, type Dirs } from "../daemon/state/paths.ts";
import { DEFAULT_PROBE_TIMEOUT_MS } from "../daemon/owner/probe.ts";
import { stopIfLive } from "../daemon/client/stopper.ts";
import type { Logger } from "../logger.ts";
import { findBinary } from "./binary.ts";
import {
  BinaryFailedError,
  InvalidDefinitionError,
  InvalidNameError,
  ProtocolMismatchError,
  StartFailedError,
  StopFailedError,
  StoppedByOperatorError,
  UnknownDaemonError,
  UnusableDirectoryError,
} from "./errors.ts";

/** Where daemons live and how long a host has to answer. Every field defaults as the CLI's does. */
export interface ClientOptions {
  /** Default: `$DAEMONCTL_RUNTIME_DIR`, the config file's `runtimeDir`, then `$XDG_RUNTIME_DIR/daemonctl` or `/run/daemonctl` (docs/configuration.md). */
  runtimeDir?: string;
  /** Default: `$DAEMONCTL_STATE_DIR`, the config file's `stateDir`, then the user's or the system's state directory. */
  stateDir?: string;
  /** How long a host has to answer a status probe, in ms (default 500). */
  probeTimeoutMs?: number;
}

/** Options of calls that run the binary. */
export interface ActOptions extends ClientOptions {
  /** The daemonctl binary to use (default: `DAEMONCTL_BIN`, the platform package, `PATH`). */
  binary?: string;
  /** Environment for the binary (and so for a host it starts, and its daemon). Default: this process's. */
  env?: Record<string, string | undefined>;
}

export interface EnsureOptions extends ActOptions {
  /** How long to wait for readiness, in ms (default as `daemonctl start`); `null`: do not wait. */
  waitMs?: number | null;
  /**
   * A daemon an operator stopped (`daemonctl stop`): `"fail"` (default) throws
   * StoppedByOperatorError and leaves it stopped; `"start"` starts it, as `daemonctl start` would.
   */
  ifStopped?: "fail" | "start";
}

/** A daemon's definition: the keys of a config entry (docs/configuration.md), plus its name. */
export type DaemonDefinition = DefinitionInput & { name: string };

export interface StopResult {
  name: string;
  /** It was running (false: it was already down; the intent is `stopped` either way). */
  wasRunning: boolean;
  /** It outlived its stopTimeout and was SIGKILLed. */
  killed: boolean;
  notes: string[];
}

/** The library prints nothing: what it has to say is in what it returns or throws. */
const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function checkName(name: string): string {
  if (!isValidName(name)) throw new InvalidNameError(name);
  return name;
}

/** The CLI's directories (flags here are the options), checked as safe to use. */
export async function dirsFor(o: ClientOptions = {}): Promise<Dirs> {
  try {
    return await usableDirs(o, () => findConfigPath(undefined));
  } catch (e) {
    if (e instanceof DirError) throw new UnusableDirectoryError(e.message, e.code);
    throw e;
  }
}

/**
 * The verified status of one daemon, exactly what `daemonctl status NAME --json` prints. Not
 * running is not an error: read `state` (and `error.code`, e.g. `unknown-daemon`, `hung`).
 */
export async function status(name: string, o: ClientOptions = {}): Promise<Status> {
  const dirs = await dirsFor(o);
  return statusIn(dirs, checkName(name), o);
}

/** `status` in directories already resolved (and checked). */
export async function statusIn(dirs: Dirs, name: string, o: ClientOptions): Promise<Status> {
  const s = await collectStatus(name, dirs, o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  await markUndefined(dirs, [s], configuredNames);
  return s;
}

/** The daemon names of the config file the CLI would read here (its keys only), or none. */
async function configuredNames(): Promise<string[]> {
  const found = await findConfigPath(undefined);
  return found ? loadConfigDaemonNames(found.path) : [];
}

/** Every daemon known in the runtime and state directories, as `daemonctl status --json` lists them. */
export async function list(o: ClientOptions = {}): Promise<Status[]> {
  const dirs = await dirsFor(o);
  const timeout = o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  return Promise.all(knownDaemons(dirs).map((n) => collectStatus(n, dirs, timeout)));
}

/**
 * `daemonctl start` as a call: the daemon runs once however many processes call this at once;
 * a dead, frozen or foreign owner is reclaimed; a changed definition (or watched file) replaces
 * it. Returns its verified status once ready (`waitMs`).
 *
 * The common case (running, ready, same definition) is answered here with one probe; anything
 * else runs `daemonctl start NAME --definition JSON`, which decides under the spawn lock.
 */
export async function ensureDaemon(definition: DaemonDefinition, o: EnsureOptions = {}): Promise<Status> {
  if (!definition || typeof definition !== "object" || Array.isArray(definition)) throw new InvalidDefinitionError("the definition must be an object: { name, command, … }");
  const { name: rawName, ...input } = definition;
  const name = checkName(rawName);
  const dirs = await dirsFor(o);
  const resolved = resolveOrThrow(name, input, dirs);
  const now = await statusIn(dirs, name, o);
  if (now.state === "running" && now.ready && now.identity === resolved.identity) return now;
  if (now.intent === "stopped" && (o.ifStopped ?? "fail") === "fail" && stoppedState(now)) throw new StoppedByOperatorError(name, now);
  const args = ["start", name, "--json", "-q", "--definition", JSON.stringify(definitionToInput(resolved.definition))];
  // Checked again under the spawn lock: a stop that lands while this start queues is respected.
  if ((o.ifStopped ?? "fail") === "fail") args.push("--unless-stopped");
  args.push(...waitArgs(o.waitMs));
  const r = await runBinary(args, dirs, o);
  const doc = statusFrom(r, "start", name);
  if (doc.error?.code === "stopped-by-operator") throw new StoppedByOperatorError(name, doc);
  if (o.waitMs === null && r.code === 0) return firstAnswer(dirs, name, doc, o);
  if (r.code !== 0 || doc.error?.code === "start-failed") {
    throw new StartFailedError(name, `${name} failed to start: ${doc.error?.message ?? lastLine(r.stderr)}`, doc, r.code ?? 1, outputTail(r.stderr));
  }
  return doc;
}

/**
 * Without a wait the binary returns once it has launched the host, which answers tens of ms
 * later: until then a status would say "stopped". Return the host's own first answer instead
 * (or, if none comes within 2 s, what the binary said).
 */
async function firstAnswer(dirs: Dirs, name: string, launched: Status, o: ClientOptions): Promise<Status> {
  if (launched.pid === null || launched.identity !== null) return launched; // a live host answered already
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    const s = await statusIn(dirs, name, o);
    if (s.pid === launched.pid) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  return launched;
}

/**
 * States a stop leaves (or that a stopped daemon shows inside a supervisor), and `stopping`: an
 * operator's stop still under way (intent already `stopped`), which `daemonctl start` would wait
 * out and then undo.
 */
function stoppedState(s: Status): boolean {
  return s.state === "stopped" || s.state === "stopping" || s.state === "dead" || s.state === "failed";
}

function resolveOrThrow(name: string, input: Omit<DaemonDefinition, "name">, dirs: Dirs): ResolvedDefinition {
  try {
    // The command stays in the definition: one that is empty or not a list is reported as such.
    return resolveDefinition({ name, base: input as Record<string, unknown>, overrides: {}, config: null, dirs });
  } catch (e) {
    if (e instanceof UsageError) throw new InvalidDefinitionError(e.message.replaceAll("--definition: ", ""));
    throw e;
  }
}

/** `daemonctl stop NAME`: the planned stop (it stays stopped across restarts of its host or container). */
export async function stop(name: string, o: ActOptions & { timeoutMs?: number } = {}): Promise<StopResult> {
  checkName(name);
  const dirs = await dirsFor(o);
  // A live host is asked over the protocol, here; anything else (no host, a dead or hung one,
  // orphans, a start in flight) needs the spawn lock: the binary.
  const live = await stopIfLive(name, { dirs, reason: "stop", probeTimeoutMs: o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, timeoutMs: o.timeoutMs, log: SILENT });
  if (live?.kind === "failed") throw new StopFailedError(name, `${name}: could not stop: ${live.message}`);
  if (live) return { name, wasRunning: live.wasRunning, killed: live.escalated !== null, notes: live.notes };
  const args = ["stop", name, "--json", "-q"];
  if (o.timeoutMs !== undefined) args.push("--timeout", `${Math.max(0, Math.round(o.timeoutMs))}ms`);
  const r = await runBinary(args, dirs, o);
  const docs = jsonFrom(r, "stop", name);
  const doc = Array.isArray(docs) ? (docs[0] as Record<string, unknown> | undefined) : undefined;
  if (!doc || typeof doc.stopped !== "boolean") throw unexpected(r, "stop");
  if (!doc.stopped) throw new StopFailedError(name, `${name}: could not stop: ${String(doc.error ?? lastLine(r.stderr))}`);
  return { name, wasRunning: doc.wasRunning === true, killed: doc.killed === true, notes: Array.isArray(doc.notes) ? doc.notes.map(String) : [] };
}

/** `daemonctl restart NAME`: stop, then start with its stored definition; its status once ready. */
export async function restart(name: string, o: ActOptions & { waitMs?: number | null } = {}): Promise<Status> {
  checkName(name);
  const dirs = await dirsFor(o);
  const args = ["restart", name, "--json", "-q", ...waitArgs(o.waitMs)];
  const r = await runBinary(args, dirs, o);
  // A failed start prints its status with the reason (as `start --json` does); a failed stop
  // prints null (its reason is on stderr); an unknown name is an error document (statusFrom).
  if (r.code !== 0 && tryJson(r.stdout) === null) throw new StopFailedError(name, `${name} did not restart: ${lastLine(r.stderr)}`);
  const doc = statusFrom(r, "restart", name);
  if (r.code !== 0 || doc.error?.code === "start-failed") {
    throw new StartFailedError(name, `${name} did not restart: ${doc.error?.message ?? lastLine(r.stderr)}`, doc, r.code ?? 1, outputTail(r.stderr));
  }
  return o.waitMs === null ? firstAnswer(dirs, name, doc, o) : doc;
}

/** `waitMs` as the binary's flags: null is `--no-wait`, undefined its default wait. */
function waitArgs(waitMs: number | null | undefined): string[] {
  if (waitMs === null) return ["--no-wait"];
  return waitMs === undefined ? [] : ["--wait", `${Math.max(0, Math.round(waitMs))}ms`];
}

interface BinaryResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the binary with this library's directories, from `/`: a daemonctl.json in the caller's
 * working directory must not change a definition the library resolved itself.
 */
function runBinary(args: string[], dirs: Dirs, o: ActOptions): Promise<BinaryResult> {
  const bin = findBinary(o.binary, o.env ?? process.env);
  const env = { ...(o.env ?? process.env) };
  delete env.DAEMONCTL_CONFIG;
  const all = [...args, "--runtime-dir", dirs.runtimeDir, "--state-dir", dirs.stateDir];
  if (o.probeTimeoutMs !== undefined) all.push("--probe-timeout", `${o.probeTimeoutMs}ms`);
  return new Promise((resolve) => {
    execFile(bin, all, { cwd: "/", env, maxBuffer: 16 << 20, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
      if (err && code === null && !stdout) resolve({ code: null, stdout: "", stderr: `${stderr}${(err as Error).message}` });
      else resolve({ code, stdout, stderr });
    });
  });
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function jsonFrom(r: BinaryResult, what: string, name: string): unknown {
  const doc = tryJson(r.stdout);
  if (doc === undefined) throw unexpected(r, what);
  const error = (doc as { error?: { code?: string; message?: string } } | null)?.error;
  if (error && r.code === 2 && !("schema" in (doc as object))) {
    if (error.code === "unknown-daemon") throw new UnknownDaemonError(name, String(error.message));
    throw error.code === "usage" ? new InvalidDefinitionError(String(error.message)) : new BinaryFailedError(String(error.message), r.code, r.stderr);
  }
  return doc;
}

/** A status document from the binary, checked like any host's answer (same schema, same protocol). */
function statusFrom(r: BinaryResult, what: string, name: string): Status {
  const doc = jsonFrom(r, what, name);
  const s = parseStatus(doc);
  if (s === INVALID) {
    const schema = (doc as { schema?: unknown } | null)?.schema;
    if (typeof schema === "string" && schema !== STATUS_SCHEMA) throw new ProtocolMismatchError(`the daemonctl binary answered ${schema}; this library reads ${STATUS_SCHEMA} (install matching versions)`);
    throw unexpected(r, what);
  }
  checkProtocol(s.name, s);
  return s;
}

/** A host (or the binary, reporting one) that speaks another protocol is not read further. */
export function checkProtocol(name: string, s: Status): void {
  if (s.protocolVersion !== null && s.protocolVersion !== PROTOCOL_VERSION) {
    throw new ProtocolMismatchError(`${name}'s host speaks protocol ${s.protocolVersion}; this library speaks ${PROTOCOL_VERSION} (install matching versions)`);
  }
}

function unexpected(r: BinaryResult, what: string): BinaryFailedError {
  return new BinaryFailedError(`daemonctl ${what} failed (exit ${r.code ?? "by signal"}): ${lastLine(r.stderr) || "no output"}`, r.code, r.stderr);
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop()?.replace(/^daemonctl: /, "") ?? "";
}

/** The indented lines `daemonctl start` prints under "last output of NAME:". */
function outputTail(stderr: string): string[] {
  const lines = stderr.split("\n");
  const at = lines.findIndex((l) => /^last output of /.test(l));
  return at < 0 ? [] : lines.slice(at + 1).filter((l) => l.startsWith("  ")).map((l) => l.slice(2));
}
