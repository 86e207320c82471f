/**
 * The client spawner behind `start` (docs/how-it-works.md#the-client-spawner): start a daemon
 * exactly once, however many
 * callers race.
 *
 * Under the spawn lock `R/NAME.json.lock`: probe the owner (verified status), decide, launch a
 * detached host if needed, and wait for readiness before releasing the lock, so racing callers
 * find the daemon running rather than launching their own. The host's bind guard is the second
 * line of defence for starts that bypass this lock (`--foreground`).
 */
import { openSync, closeSync, mkdirSync } from "node:fs";
import { tailLines } from "../state/logfile.ts";
import type { ChildProcess } from "node:child_process";
import { selfCommand } from "../../platform/runtime.ts";
import { spawnManaged } from "../../platform/spawn.ts";
import { slowGcTimerEnv } from "../../platform/gc-timer.ts";
import { HOST_SPEC_ENV } from "../../schema/host-spec.ts";
import { hostSpecFor } from "../definition/host-spec.ts";
import { metadataSchema } from "../../schema/metadata.ts";
import type { Status } from "../../schema/status.ts";
import { INVALID, parseStatus } from "../../schema/generated/validators.ts";
import type { DaemonEvent } from "../../schema/event.ts";
import { metadataNamesStatus, reconcileMetadataFromStatus } from "../owner/metadata.ts";
import { isSameProcess } from "../../platform/identity.ts";
import { readState, updateState } from "../state/intent.ts";
import { waitHostGone } from "../owner/takeover.ts";
import type { ResolvedDefinition } from "../definition/source.ts";
import type { Logger } from "../../logger.ts";
import type { Sharing } from "../state/sharing.ts";
import { acquireLock, tryLock, type FrozenHolderPolicy } from "../state/lock.ts";
import { daemonFiles, ensureDirs, type DaemonFiles, type Dirs } from "../state/paths.ts";
import { busyMessage, probeOwnerPatiently, type OwnerProbe } from "../owner/probe.ts";
import { ControlClient, requestOnce } from "../wire/client.ts";
import { inodeOf, readJson } from "../state/store.ts";
import { formatDuration } from "../../schema/units.ts";
import { isOneshot } from "../../schema/definition.ts";
import { shellExitCode } from "../policy.ts";
import { trace } from "../../trace.ts";

export type StartOutcome =
  | { kind: "started" | "already-running" | "replaced"; status: Status }
  /** `--no-wait`: a host that answered already (asked to start, or to adopt a definition), else null. */
  | { kind: "launched"; hostPid: number | null; status: Status | null }
  /** `unlessStopped`: an operator stopped it (intent `stopped`); nothing was started. */
  | { kind: "stopped-by-operator"; status: Status | null }
  /** A oneshot that ran to completion (exit 0), or whose `once` success was on record already. */
  | { kind: "completed"; status: Status | null; already: boolean }
  /** `exitCode`: a oneshot's own exit code (128+N for signal N), which `start` exits with. */
  | { kind: "failed"; message: string; status: Status | null; logTail: string[]; exitCode?: number };

export interface StartOptions {
  resolved: ResolvedDefinition;
  dirs: Dirs;
  sharing: Sharing;
  probeTimeoutMs: number;
  /** How long to wait for readiness; null = `--no-wait`. */
  waitMs: number | null;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** `--wait` was given (not the default): raising it to the readiness timeout is said aloud. */
  waitGiven?: boolean;
  /** Called once the daemon is seen starting or running (a oneshot's callers release the spawn lock then). */
  started?: () => void;
  /** `restart`: run a `once` oneshot again even though its success is on record. */
  rerun?: boolean;
  /**
   * `start --unless-stopped` (the library's default): start nothing if an operator stopped the
   * daemon. Decided under the spawn lock, so a stop that lands while this start waits for the
   * lock is respected too.
   */
  unlessStopped?: boolean;
  /** Told what the wait is for, about every 100 ms, and null once it is over (a terminal's progress line). */
  progress?: (p: WaitProgress | null) => void;
}

export interface WaitProgress {
  /** The readiness spec (`tcp:127.0.0.1:8000`), or `NAME to start` when there is none. */
  waitingFor: string;
  elapsedMs: number;
  /** The definition's readiness timeout: what the host waits for at most. */
  readyTimeoutMs: number;
}

/** Extra time for a host to start and bind, on top of the child's own readiness timeout. */
const HOST_STARTUP_MARGIN_MS = 2_000;
/** A oneshot may run for as long as it takes (a migration): `start` waits a day unless told. */
const ONESHOT_WAIT_MS = 24 * 3_600_000;
/** A oneshot run we joined whose socket has not answered for this long has ended. */
const JOINED_HOST_GONE_MS = 1_000;

/**
 * The readiness wait: never shorter than the host's own readiness timeout (plus start-up), so
 * the client does not give up on a daemon the host is still patiently waiting for.
 */
export function effectiveWaitMs(waitMs: number, readyTimeoutMs: number): number {
  return Math.max(waitMs, readyTimeoutMs + HOST_STARTUP_MARGIN_MS);
}

/**
 * What to say when an explicit `--wait` is raised to cover the readiness timeout (null when it
 * is not): giving up on a daemon the host still waits for would report a start as failed that
 * then succeeds.
 */
export function raisedWaitNote(name: string, waitMs: number, readyTimeoutMs: number): string | null {
  const effective = effectiveWaitMs(waitMs, readyTimeoutMs);
  if (effective === waitMs || waitMs >= readyTimeoutMs) return null;
  return `${name}: --wait ${formatDuration(waitMs)} is shorter than its readiness timeout (${formatDuration(readyTimeoutMs)}); ` +
    `waiting up to ${formatDuration(effective)} (give --ready-timeout to shorten both)`;
}

export async function startDaemon(o: StartOptions): Promise<StartOutcome> {
  const { name, definition } = o.resolved;
  const files = daemonFiles(o.dirs, name);
  ensureDirs(o.dirs, { mode: o.sharing.dirMode, gid: o.sharing.gid });
  const oneshot = isOneshot(definition);
  const waitMs = o.waitMs === null ? 0 : oneshot ? (o.waitGiven ? o.waitMs : ONESHOT_WAIT_MS) : effectiveWaitMs(o.waitMs, definition.readyTimeout);
  // With `ready: none` the daemon counts as ready once executed: a short --wait is fine.
  const note = o.waitGiven && o.waitMs !== null && definition.ready !== "none" && !oneshot ? raisedWaitNote(name, o.waitMs, definition.readyTimeout) : null;
  if (note) o.log.warn(note);
  // A racing caller may hold the lock while it replaces a stale daemon (up to its stopTimeout)
  // and then waits for readiness: our own patience must cover both.
  const lockTimeout = waitMs + definition.stopTimeout + definition.readyTimeout + 10_000;
  const got = await acquireLock(files.spawnLock, lockTimeout, { mode: o.sharing.fileMode, gid: o.sharing.gid, role: "client" }, frozenSpawnLockHolder(o.log));
  trace("client: lock acquired");
  if (got.kind === "timeout") return failed(files, `another \`daemonctl start ${name}\` held ${files.spawnLock} for over ${formatDuration(lockTimeout)}`, null);
  if (got.kind === "refused") return failed(files, got.message, null);
  let held = got.kind === "locked";
  const release = () => {
    if (held && got.kind === "locked") got.lock.release();
    held = false;
  };
  try {
    // A oneshot may run for long: once it runs, racing callers join that run instead of queueing.
    return await startLocked(oneshot ? { ...o, started: release } : o, files, waitMs);
  } finally {
    release();
  }
}

/**
 * The spawn lock is held by a frozen process. A frozen `start` is the user's command, not ours to
 * kill; and the spawn lock only spares racing callers a wasted launch: the bind lock and the bind
 * guard still let exactly one host bind. So we go on without it. Anything else (no daemonctl
 * process but a client takes this lock) is waited for.
 */
function frozenSpawnLockHolder(log: Logger): FrozenHolderPolicy {
  return (holder) => {
    if (holder.role !== "client" || holder.pid === process.pid) return { action: "wait" };
    log.warn(`the spawn lock is held by pid ${holder.pid}, which is stopped (SIGSTOP); going on without it`);
    return { action: "proceed" };
  };
}

async function startLocked(o: StartOptions, files: DaemonFiles, waitMs: number): Promise<StartOutcome> {
  const done = completedOnce(o, files);
  const probe = await currentOwner(o, files, waitMs);
  trace(`client: probed ${probe.kind}`);
  if (probe.kind === "denied") return failed(files, probe.reason, null);
  if (probe.kind === "busy") return failed(files, `${busyMessage(o.resolved.name, probe.reason)} — try again`, null);
  if (o.unlessStopped && stoppedByOperator(probe, files)) return { kind: "stopped-by-operator", status: probe.kind === "live" ? probe.status : null };
  if (probe.kind !== "live") {
    if (done) return { kind: "completed", status: null, already: true };
    return launchAndWait(o, files, waitMs, false);
  }
  if (probe.status.identity === o.resolved.identity) return startOwned(o, files, waitMs, probe.status, done);
  return offerDefinition(o, files, waitMs, probe.status);
}

/** Intent `stopped` (an operator's stop, recorded by its host or in the state file) and not running. */
function stoppedByOperator(probe: OwnerProbe, files: DaemonFiles): boolean {
  if (probe.kind === "live") return probe.status.intent === "stopped" && probe.status.state !== "running";
  return readState(files)?.intent === "stopped";
}

/** A `once` oneshot whose success with this definition is on record: nothing to run. */
function completedOnce(o: StartOptions, files: DaemonFiles): boolean {
  const def = o.resolved.definition;
  if (!isOneshot(def) || def.once !== true || readState(files)?.completed?.identity !== o.resolved.identity) return false;
  if (!o.rerun) return true;
  // A restart runs it again on purpose: forget the success first, so the host runs it too.
  updateState(files, { completed: null }, o.sharing);
  return false;
}

/**
 * Who owns the socket now. A host too busy to give its status is alive: ask it again for as long
 * as we would wait for readiness, and never launch a replacement for it.
 */
async function currentOwner(o: StartOptions, files: DaemonFiles, waitMs: number): Promise<OwnerProbe> {
  const patience = Math.max(waitMs, o.probeTimeoutMs * 4);
  const probe = await probeOwnerPatiently(files.socket, o.probeTimeoutMs, patience);
  if (probe.kind !== "live" || probe.status.state !== "stopping" || !standaloneHost(files, probe.status)) return probe;
  // A standalone host on its way out starts nothing: let it finish, then look again.
  await waitHostGone(files.socket, inodeOf(files.socket), { pid: probe.status.pid!, identity: probe.status.pidIdentity! }, o.resolved.definition.stopTimeout + 2_000);
  return probeOwnerPatiently(files.socket, o.probeTimeoutMs, patience);
}

/** A live owner of our definition: running already, starting, or to be asked to start it. */
async function startOwned(o: StartOptions, files: DaemonFiles, waitMs: number, s: Status, done: boolean): Promise<StartOutcome> {
  const { resolved } = o;
  await repairMetadata(files, s, o.sharing);
  if (s.state === "running" && s.ready) return { kind: "already-running", status: s };
  if (s.state === "done" && done) return { kind: "completed", status: s, already: true };
  let answered = s;
  if (s.state !== "starting") {
    // Stopped inside a supervisor, failed, or waiting in backoff: ask the owner to start it.
    const r = await requestOnce(files.socket, "start", {}, o.probeTimeoutMs * 4);
    if ("kind" in r && r.kind === "error" && r.code === "exiting") {
      await waitHostGone(files.socket, inodeOf(files.socket), { pid: s.pid!, identity: s.pidIdentity! }, resolved.definition.stopTimeout + 2_000);
      return launchAndWait(o, files, waitMs, false);
    }
    if ("kind" in r && r.kind === "error") return failed(files, `${resolved.name}: ${r.message}`, s);
    answered = startAnswer(r, s);
  }
  if (o.waitMs === null) return { kind: "launched", hostPid: s.pid, status: answered };
  // We asked the owner to start it (a stopped daemon inside a supervisor): that is a start.
  return waitForReady(o, files, waitMs, null, s.state === "starting" ? "already-running" : "started");
}

/**
 * A live owner of another definition. A supervisor swaps it in place; a standalone host says
 * "stale" and is replaced by the host we launch (its bind guard stops the old one first).
 */
async function offerDefinition(o: StartOptions, files: DaemonFiles, waitMs: number, s: Status): Promise<StartOutcome> {
  const r = await requestOnce(files.socket, "start", { definition: o.resolved.definition, identity: o.resolved.identity }, o.probeTimeoutMs * 4);
  if ("kind" in r && r.kind === "ok") {
    if (o.waitMs === null) return { kind: "launched", hostPid: s.pid, status: startAnswer(r, s) };
    return waitForReady(o, files, waitMs, null, "replaced");
  }
  return launchAndWait(o, files, waitMs, true);
}

/**
 * The status a `start` request was answered with: the daemon as this start left it (starting),
 * not as the probe before it found it (stopped, backoff, another definition).
 */
function startAnswer(r: Awaited<ReturnType<typeof requestOnce>>, before: Status): Status {
  if (!("kind" in r) || r.kind !== "ok") return before;
  const parsed = parseStatus(r.result);
  return parsed === INVALID ? before : parsed;
}

function launchAndWait(o: StartOptions, files: DaemonFiles, waitMs: number, replacing: boolean): Promise<StartOutcome> | StartOutcome {
  const host = launchHost(o, files);
  trace("client: host launched");
  // `--no-wait`: as soon as the host is launched (it answers tens of ms later). The fault tests
  // rely on catching a host this early; the library waits for its first answer itself.
  if (o.waitMs === null) return { kind: "launched", hostPid: host.pid ?? null, status: null };
  return waitForReady(o, files, waitMs, host, replacing ? "replaced" : "started");
}

/** Starts `daemonctl __host NAME` detached, with the spec in its environment. */
function launchHost(o: StartOptions, files: DaemonFiles): ChildProcess {
  const spec = hostSpecFor(o.resolved, o.dirs, o.sharing, o.probeTimeoutMs);
  mkdirSync(files.logDir, { recursive: true, mode: o.sharing.dirMode & 0o777 });
  // The host's own stdio goes to the daemon log: a host that dies before it can log leaves its
  // last words where `daemonctl logs` and this command's failure report will find them.
  const logFd = openSync(files.log, "a", o.sharing.fileMode);
  const [cmd, ...args] = selfCommand();
  try {
    const child = spawnManaged(cmd!, [...args, "__host", o.resolved.name], {
      detached: true,
      stdio: ["ignore", logFd, logFd],
      // An idle host should not wake every second for Bun's GC timer (platform/gc-timer.ts).
      env: { ...o.env, ...slowGcTimerEnv(o.env), [HOST_SPEC_ENV]: JSON.stringify(spec) },
    });
    child.unref();
    child.on("error", () => {});
    return child;
  } finally {
    closeSync(logFd);
  }
}

/**
 * Waits until a host answers for our definition, metadata names it, and its child is ready.
 * Fails early when our host dies, or the child exits before it is ready. An exit preceded by a
 * `stop` event for the same pid was asked for (a replace or restart) and does not count.
 */
async function waitForReady(
  o: StartOptions,
  files: DaemonFiles,
  waitMs: number,
  host: ChildProcess | null,
  success: "started" | "already-running" | "replaced",
): Promise<StartOutcome> {
  const began = Date.now();
  const deadline = began + waitMs;
  const hostExit = exitWatch(host);
  const owner = new OwnerLink(files.socket, o.probeTimeoutMs);
  const { ready, readyTimeout } = o.resolved.definition;
  const oneshot = isOneshot(o.resolved.definition);
  const waitingFor = oneshot ? `${o.resolved.name} to complete` : ready === "none" ? `${o.resolved.name} to start` : ready;
  let last: Status | null = null;
  let unreachableSince: number | null = null;
  try {
    while (Date.now() < deadline) {
      o.progress?.({ waitingFor, elapsedMs: Date.now() - began, readyTimeoutMs: oneshot ? waitMs : readyTimeout });
      const got = await owner.status(deadline);
      trace(`client: status ${got.kind === "answered" ? `${got.status?.state} ready=${got.status?.ready}` : "unreachable"}`);
      if (got.kind === "unreachable") {
        // A oneshot's host leaves once the task has ended: its state file has the outcome. Ours
        // (launched after `began`) wrote it; a run we joined ended when its host went away.
        unreachableSince ??= Date.now();
        const gone = host === null ? Date.now() - unreachableSince >= JOINED_HOST_GONE_MS : hostExit.code !== null;
        // Gone: any record is the outcome (the time gate only holds while a successor may come).
        const ended = oneshot ? oneshotEndIn(files, gone ? null : began) : null;
        if (ended) return ended;
        // If our host has exited, no successor is coming.
        if (hostExit.code !== null) return failedWithLog(files, (tail) => describeHostExit(files, tail, hostExit.code!, ready, began), last);
        if (got.pause > 0) await sleep(got.pause);
        continue;
      }
      unreachableSince = null;
      if (got.status) {
        last = got.status;
        const verdict = oneshot
          ? judgeOneshot(o, files, got.status, host !== null && hostExit.code === null)
          : judgeStatus(o, files, got.status, owner.crashed, host !== null && hostExit.code === null, success, began);
        if (verdict === "look-again") {
          owner.drop();
          await sleep(20);
          continue;
        }
        if (verdict !== "wait") return verdict;
      }
      await owner.idle(100);
    }
    if (oneshot) return failed(files, `${o.resolved.name} did not complete within ${formatDuration(waitMs)}; it is still running (see \`daemonctl status ${o.resolved.name}\`)`, last);
    return failed(files, `${o.resolved.name} was not ready within ${formatDuration(waitMs)} (ready: ${o.resolved.definition.ready})`, last);
  } finally {
    o.progress?.(null);
    owner.close();
  }
}

/** Our host's exit code once it has exited (128 for a death by a signal); null before. */
function exitWatch(host: ChildProcess | null): { code: number | null } {
  const exit: { code: number | null } = { code: null };
  host?.once("exit", (code, signal) => (exit.code = code ?? (signal ? 128 : 1)));
  return exit;
}

/**
 * One status answer judged: ready, ended, or worth waiting for. `replacing`: our own host is
 * alive and may still be replacing whoever answered.
 */
function judgeStatus(
  o: StartOptions,
  files: DaemonFiles,
  s: Status,
  crashed: DaemonEvent | null,
  replacing: boolean,
  success: "started" | "already-running" | "replaced",
  began: number,
): StartOutcome | "look-again" | "wait" {
  if (s.identity !== o.resolved.identity) {
    // The old owner still answers while our host replaces it: look again shortly.
    if (!replacing) return failed(files, `${o.resolved.name} is now running another definition (a concurrent start replaced it)`, s);
    return "look-again";
  }
  if (s.ready && s.state === "running" && metadataNames(files, s)) return { kind: success, status: s };
  if (crashed || s.state === "backoff" || s.state === "failed" || (s.state === "stopped" && s.intent === "running")) {
    return failedWithLog(files, (tail) => describeEnd(files, tail, s, o.resolved.definition.ready, began), s);
  }
  return "wait";
}

/**
 * A oneshot's status judged: done, failed for good, or still running (a failure in backoff is
 * retried by its policy, so it is waited out too).
 */
function judgeOneshot(o: StartOptions, files: DaemonFiles, s: Status, replacing: boolean): StartOutcome | "look-again" | "wait" {
  if (s.identity !== o.resolved.identity) {
    if (!replacing) return failed(files, `${o.resolved.name} is now running another definition (a concurrent start replaced it)`, s);
    return "look-again";
  }
  o.started?.();
  if (s.state === "done") return { kind: "completed", status: s, already: false };
  if (s.state === "failed" || (s.state === "stopped" && s.intent === "running")) return oneshotFailed(files, s.child?.lastExit ?? null, s);
  if (s.state === "stopped") return oneshotStopped(files, s.child?.lastExit ?? null, s);
  return "wait";
}

/**
 * The outcome of a oneshot whose host has gone, from its state file: for a run we launched only
 * if it ended after `since` (an older record is another run's); for one we joined, whatever it
 * says, since that host was live when we joined.
 */
function oneshotEndIn(files: DaemonFiles, since: number | null): StartOutcome | null {
  const st = readState(files);
  const e = st?.lastExit ?? null;
  if (!st || (since !== null && (!e || Date.parse(e.at) < since))) return null;
  if (st.lastState === "done") return { kind: "completed", status: null, already: false };
  if (st.lastState === "failed" || st.lastState === "exited") return oneshotFailed(files, e, null);
  if (st.intent === "stopped") return oneshotStopped(files, e, null);
  return { ...failed(files, `${files.name}'s host went away before the task completed (see \`daemonctl logs ${files.name}\`)`, null), exitCode: 1 } as StartOutcome;
}

function oneshotStopped(files: DaemonFiles, e: { code: number | null; signal: string | null } | null, s: Status | null): StartOutcome {
  const out = failed(files, `${files.name} was stopped (\`daemonctl stop\`) before it completed`, s);
  return { ...out, exitCode: (e && shellExitCode(e)) || 1 } as StartOutcome;
}

function oneshotFailed(files: DaemonFiles, e: { code: number | null; signal: string | null } | null, s: Status | null): StartOutcome {
  const how = e ? (e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`) : "ended";
  const out = failed(files, `${files.name} ${how} (state failed)`, s);
  return e ? { ...out, exitCode: shellExitCode(e) || 1 } as StartOutcome : out;
}

/**
 * A connection to whoever answers on the socket, following its events: a crash can come and go
 * between two status requests (a restart makes it look healthy again), and only the events show it.
 */
class OwnerLink {
  /** The first crash since we connected: an exit nobody asked for, a backoff, or `failed`. */
  crashed: DaemonEvent | null = null;
  private client: ControlClient | null = null;
  private wake: (() => void) | null = null;
  /** Pids we saw a `stop` event for: their exit was asked for. */
  private readonly stopping = new Set<number>();

  constructor(
    private readonly socket: string,
    private readonly probeTimeoutMs: number,
  ) {}

  /** The status it answers (null if it does not parse), or how long to pause before asking again. */
  async status(deadline: number): Promise<{ kind: "answered"; status: Status | null } | { kind: "unreachable"; pause: number }> {
    if (!this.client) {
      const pause = await this.connect(deadline);
      if (pause !== null) return { kind: "unreachable", pause };
    }
    const r = await this.client!.request("status", undefined, this.probeTimeoutMs);
    if (r.kind !== "ok") {
      // A frozen previous owner still accepts connections; its successor's socket is new.
      this.drop();
      return { kind: "unreachable", pause: 0 };
    }
    // The generated validator is statusSchema compiled (scripts/gen-validators.ts): the same
    // checks, without building the zod schema on the start path.
    const parsed = parseStatus(r.result);
    return { kind: "answered", status: parsed === INVALID ? null : parsed };
  }

  /** Connects and subscribes to events; null once following, else the pause before a retry. */
  private async connect(deadline: number): Promise<number | null> {
    const c = await ControlClient.open(this.socket, Math.min(this.probeTimeoutMs, Math.max(1, deadline - Date.now())));
    if (!(c instanceof ControlClient)) return 5;
    this.client = c;
    this.crashed = null;
    c.onEvent = (e) => this.noteEvent(e);
    c.onClose = () => {
      this.client = null;
      this.wake?.();
    };
    const sub = await c.request("events", undefined, this.probeTimeoutMs);
    if (sub.kind !== "ok") {
      // Evicted or refused by a busy host: reconnect, but not in a tight loop.
      this.drop();
      return 20;
    }
    return null;
  }

  private noteEvent(e: DaemonEvent): void {
    if (e.type === "stop" && e.pid !== null) this.stopping.add(e.pid);
    else if (e.type === "backoff" || e.type === "failed" || (e.type === "exit" && !(e.pid !== null && this.stopping.has(e.pid)))) this.crashed ??= e;
    this.wake?.();
  }

  /** Waits `ms`, or less when an event or the connection's end comes first. */
  idle(ms: number): Promise<void> {
    return sleepOrWake(ms, (w) => (this.wake = w));
  }

  /** Forgets this connection; the next status request opens a new one. */
  drop(): void {
    this.client?.close();
    this.client = null;
  }

  close(): void {
    this.client?.close();
  }
}

function metadataNames(files: DaemonFiles, s: Status): boolean {
  const m = readJson(files.metadata, metadataSchema());
  return m.kind === "ok" && metadataNamesStatus(m.value, s);
}

function standaloneHost(files: DaemonFiles, s: Status): boolean {
  const m = readJson(files.metadata, metadataSchema());
  return m.kind === "ok" && metadataNamesStatus(m.value, s) && m.value.supervised === false;
}

/**
 * Bind guard step 2 from the client side (docs/how-it-works.md#the-client-spawner): metadata
 * missing or naming someone else while a live,
 * fresh host answers. Written under the bind lock, and only if the socket is still the one that
 * answered, so a host binding meanwhile is never misdescribed.
 */
async function repairMetadata(files: DaemonFiles, s: Status, sharing: Sharing): Promise<void> {
  if (metadataNames(files, s)) return;
  const ino = inodeOf(files.socket);
  // Best effort: the live host restores complete metadata itself as soon as it sees this file change.
  const lock = await tryLock(files.bindLock, { mode: sharing.fileMode, gid: sharing.gid, role: "client" }).catch(() => null);
  if (!lock) return; // a host is binding (it writes its own metadata), or we may not lock
  try {
    if (inodeOf(files.socket) === ino && isSameProcess(s.pid, s.pidIdentity)) reconcileMetadataFromStatus(files, s);
  } catch {
    // nothing lost: the host repairs it
  } finally {
    lock.release();
  }
}

/** A host that left early: a planned stop that won the race is not a crash. */
function describeHostExit(files: DaemonFiles, tail: string[], code: number, ready: string, began: number): string {
  const st = readState(files);
  if (code === 0 && st?.intent === "stopped") {
    return `${files.name} was stopped while it was starting (a \`daemonctl stop ${files.name}\` won the race); run start again to start it`;
  }
  // A standalone host ends with its daemon: the daemon's own last exit says what happened.
  const e = st?.lastExit;
  const ended = e ? (readyTimeoutIn(files.name, tail, e, began) ?? endedBeforeReady(files.name, e, ready)) : null;
  return execFailureIn(tail) ?? ended ?? `the host for ${files.name} exited with code ${code} before it was ready`;
}

/**
 * `web exited with code 3 before it was ready`: the one wording, from status or state. With
 * `ready: none` it was ready (executed) and is gone already by the time `start` answers.
 */
function endedBeforeReady(name: string, e: { code: number | null; signal: string | null } | null | undefined, ready: string): string {
  const how = e ? (e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`) : "ended";
  return `${name} ${how} ${ready === "none" ? "right after it started" : "before it was ready"}`;
}

/**
 * A standalone host ends with its daemon: when that was a command it could not execute, its log
 * says which and why (runner.ts gives up at once on ENOENT/EACCES), and that is the news.
 */
function execFailureIn(tail: string[]): string | null {
  return newestMatch(tail, 5, /\] (cannot (?:execute|start) [^;]*)$/)?.[1] ?? null;
}

function describeEnd(files: DaemonFiles, tail: string[], s: Status, ready: string, began: number): string {
  if (s.error?.code === "cannot-execute") return `${s.error.message} (state ${s.state})`;
  return `${readyTimeoutIn(files.name, tail, s.child?.lastExit, began) ?? endedBeforeReady(files.name, s.child?.lastExit, ready)} (state ${s.state})`;
}

/**
 * The host SIGKILLs a child that is not ready within its readyTimeout, and says so in the log:
 * that is the reason to give, not "killed by SIGKILL". Only a line logged since this start
 * began (`since`): the log outlives runs and hosts, and an earlier run's timeout says nothing
 * about a later SIGKILL (the OOM killer, a `kill -9`).
 */
function readyTimeoutIn(name: string, tail: string[], e: { signal: string | null } | null | undefined, since: number): string | null {
  if (e?.signal !== "SIGKILL") return null;
  // Greedy: a readiness spec may hold a `;` of its own (`exec:a; b`, `log:x;y`).
  const m = newestMatch(tail, 10, /\[daemonctl (\S+) error\] (not ready within .*); killing it$/);
  return m && Date.parse(m[1]!) >= since ? `${name} was ${m[2]}, and was killed` : null;
}

/** The newest of the last `n` lines of a log tail that `re` matches. */
function newestMatch(tail: string[], n: number, re: RegExp): RegExpExecArray | null {
  for (let i = tail.length - 1; i >= Math.max(0, tail.length - n); i--) {
    const m = re.exec(tail[i]!);
    if (m) return m;
  }
  return null;
}

/** The last lines a failed start shows: one read of the log, whatever else explains the failure. */
const FAILED_LOG_TAIL = 20;

function failed(files: DaemonFiles, message: string, status: Status | null): StartOutcome {
  return failedWithLog(files, () => message, status);
}

/** `failed`, its message drawn from the same read of the log's tail it shows. */
function failedWithLog(files: DaemonFiles, message: (tail: string[]) => string, status: Status | null): StartOutcome {
  const logTail = tailLines(files.log, FAILED_LOG_TAIL);
  return { kind: "failed", message: message(logTail), status, logTail };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sleepOrWake(ms: number, setWake: (w: (() => void) | null) => void): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      setWake(null);
      resolve();
    }
    setWake(done);
  });
}
