/**
 * Planned stop (docs/run-intent.md#why-a-marker): marker, request, SIGTERM fallback, SIGKILL after
 * the timeout, and the intent `stopped` recorded however the host ended. `stop` reports success
 * only after checking that the daemon is really down.
 *
 * A supervisor hosts many daemons: it is never signalled on behalf of one of them. When it does
 * not answer, the stop fails and says so.
 */
import type { Metadata } from "../../schema/metadata.ts";
import type { Status } from "../../schema/status.ts";
import type { StopReason } from "../../schema/planned-stop.ts";
import { DEFAULTS } from "../../schema/definition.ts";
import { isSameProcess, signalVerified, waitForDeath } from "../../platform/identity.ts";
import { readState, recordStopIntent, writePlannedStopMarker } from "../state/intent.ts";
import { stopLiveOwner } from "../owner/takeover.ts";
import { killableHost, killHost, metadataFor, provenHost, stopInvocations, unsettledNote } from "../owner/proof.ts";
import { daemonFiles, type DaemonFiles, type Dirs } from "../state/paths.ts";
import { busyMessage, probeOwner, probeOwnerPatiently } from "../owner/probe.ts";
import { inodeOf } from "../state/store.ts";
import { acquireLock, tryLock } from "../state/lock.ts";
import type { Logger } from "../../logger.ts";

/** The host SIGKILLed the daemon because it outlived its stopTimeout after the stop signal. */
export interface Escalation {
  stopSignal: string;
  afterMs: number;
}

export type StopOutcome = { kind: "stopped"; wasRunning: boolean; notes: string[]; escalated: Escalation | null } | { kind: "failed"; message: string };

export interface StopOptions {
  dirs: Dirs;
  reason: StopReason;
  probeTimeoutMs: number;
  /** Overall patience; default: the daemon's stopTimeout + 2 s. */
  timeoutMs?: number | undefined;
  log: Logger;
}

export async function stopDaemon(name: string, o: StopOptions): Promise<StopOutcome> {
  const files = daemonFiles(o.dirs, name);
  const began = Date.now();
  const timeoutMs = stopPatience(files, o);
  // A busy host is alive: it gets a stop request, never a signal chosen from stale metadata.
  let probe = await probeOwnerPatiently(files.socket, o.probeTimeoutMs, timeoutMs);
  if (probe.kind !== "live" && probe.kind !== "busy" && probe.kind !== "denied" && (await startFinished(files, timeoutMs))) {
    // A start was in flight (it holds the spawn lock until its daemon is up): stop what it started.
    probe = await probeOwnerPatiently(files.socket, o.probeTimeoutMs, timeoutMs);
  }
  if (probe.kind === "denied") return { kind: "failed", message: probe.reason };
  if (probe.kind === "busy") return { kind: "failed", message: `${busyMessage(name, probe.reason)} — try again` };
  if (probe.kind === "live") return stopLive(files, probe.status, o, timeoutMs, began);
  // Nobody answers. A hung standalone host, or an orphan whose host died, may still hold a
  // port: stop what we can prove is ours, and never signal a pid we cannot verify.
  const notes: string[] = [];
  let wasRunning = false;
  const recorded = recordStopIntent(files, o.reason);
  if (!recorded.ok) return { kind: "failed", message: recorded.message };
  const meta = metadataFor(files);
  if (meta) {
    const r = await stopUnresponsive(files, meta, o.reason, timeoutMs, notes);
    if (r.kind === "failed") return r;
    wasRunning = r.acted;
  }
  if (probe.kind === "hung" && !wasRunning) {
    return {
      kind: "failed",
      message: `a process daemonctl cannot identify holds ${files.socket} and does not answer (${probe.reason}); nothing was signalled. ` +
        `If it is a frozen daemonctl host, resume it (kill -CONT) or kill it, then stop again`,
    };
  }
  return { kind: "stopped", wasRunning, notes, escalated: wasRunning ? escalationSince(files, began) : null };
}

function stopPatience(files: DaemonFiles, o: StopOptions): number {
  return o.timeoutMs ?? (readState(files)?.definition?.stopTimeout ?? DEFAULTS.stopTimeout) + 2_000;
}

/**
 * A live host asked to stop. The host records intent itself before it stops anything (it may
 * write where we may not: a root supervisor and a `docker exec -u app` client).
 */
async function stopLive(files: DaemonFiles, s: Status, o: StopOptions, timeoutMs: number, began: number): Promise<StopOutcome> {
  const notes: string[] = [];
  const r = await stopLiveOwner(files, s, o.reason, { timeoutMs, probeTimeoutMs: o.probeTimeoutMs }, notes);
  if (r.kind === "failed") return r;
  return { kind: "stopped", wasRunning: true, notes, escalated: escalationSince(files, began) };
}

/**
 * `stopDaemon` for a daemon a live host serves, and null for any other: a request over the
 * protocol, identity-checked signals and files, and no file lock. The library takes this path in
 * the caller's process (Node has no flock) and leaves every other case to the binary.
 */
export async function stopIfLive(name: string, o: StopOptions): Promise<StopOutcome | null> {
  const files = daemonFiles(o.dirs, name);
  const began = Date.now();
  const timeoutMs = stopPatience(files, o);
  const probe = await probeOwner(files.socket, o.probeTimeoutMs);
  return probe.kind === "live" ? stopLive(files, probe.status, o, timeoutMs, began) : null;
}

/**
 * Whether the host had to SIGKILL the daemon, read from the exit it recorded: the stop request is
 * answered before the child ends, so only the state file knows how it ended.
 */
function escalationSince(files: DaemonFiles, began: number): Escalation | null {
  const state = readState(files);
  const exit = state?.lastExit;
  const def = state?.definition;
  if (!exit || !def || exit.signal !== "SIGKILL" || def.stopSignal === "SIGKILL") return null;
  // ISO times have millisecond precision; the exit cannot come before the stop began.
  if (Date.parse(exit.at) < began - 1) return null;
  return { stopSignal: def.stopSignal, afterMs: def.stopTimeout };
}

/**
 * Waits until no `start` holds the spawn lock (true if one did). Without this a stop racing a
 * start mid-spawn finds no socket yet, says "not running", and the daemon comes up after it.
 * A frozen `start` is not waited for, and a lock we may not open is no reason to fail a stop.
 */
async function startFinished(files: DaemonFiles, timeoutMs: number): Promise<boolean> {
  if (inodeOf(files.spawnLock) === null) return false; // never started from here
  let busy = false;
  try {
    const first = await tryLock(files.spawnLock, { role: "client" });
    if (first) {
      first.release();
      return false;
    }
    busy = true;
    const got = await acquireLock(files.spawnLock, Math.max(timeoutMs, START_PATIENCE_MS), { role: "client" }, () => ({ action: "proceed" }));
    if (got.kind === "locked") got.lock.release();
  } catch {
    // no runtime dir, or not ours to lock: nothing to wait for that we could see
  }
  return busy;
}

/** How long `stop` waits for an in-flight `start` (its own wait for readiness, by default). */
const START_PATIENCE_MS = 15_000;

async function stopUnresponsive(files: DaemonFiles, meta: Metadata, reason: StopReason, timeoutMs: number, notes: string[]): Promise<{ kind: "ok"; acted: boolean } | { kind: "failed"; message: string }> {
  let acted = false;
  // A pid that does not hold a listener bound for this daemon is not ours to stop, whatever the file says.
  const hostAlive = provenHost(meta, files);
  if (hostAlive && meta.supervised !== false) {
    return { kind: "failed", message: `the supervisor (pid ${meta.pid}) serving ${files.name} does not answer; it is not signalled on behalf of one daemon` };
  }
  if (hostAlive && killableHost(meta, files) && (await killableHostStop(files, meta, reason, timeoutMs, notes))) acted = true;
  // The host is dead now (or never was): every process of its invocations is an orphan, including
  // a child it was spawning when it died, which the `child` field does not name yet.
  const orphans = await stopInvocations(files, meta, timeoutMs);
  if (orphans.unsettled.length > 0) notes.push(`${unsettledNote(orphans.unsettled)}; if it becomes ${files.name}'s child, \`daemonctl stop ${files.name}\` again stops it`);
  if (orphans.pids.length > 0) {
    acted = true;
    notes.push(`stopped orphaned child pid ${orphans.pids.join(", ")}`);
    if (!orphans.gone) return { kind: "failed", message: `orphaned child pid ${orphans.pids.join(", ")} could not be stopped` };
  }
  if (hostAlive && isSameProcess(meta.pid, meta.pidIdentity) && meta.pid !== process.pid && acted) {
    return { kind: "failed", message: `host pid ${meta.pid} could not be stopped` };
  }
  return { kind: "ok", acted };
}

/** A hung standalone host: marker, SIGTERM, then SIGKILL after the timeout. */
async function killableHostStop(files: DaemonFiles, meta: Metadata, reason: StopReason, timeoutMs: number, notes: string[]): Promise<boolean> {
  writePlannedStopMarker(files, { pid: meta.pid, identity: meta.pidIdentity }, reason);
  if (!signalVerified(meta.pid, meta.pidIdentity, "SIGTERM")) return false;
  if (!(await waitForDeath(meta.pid, meta.pidIdentity, timeoutMs))) {
    notes.push(`host pid ${meta.pid} did not answer or stop; sent SIGKILL`);
    await killHost(meta, files);
  }
  return true;
}
