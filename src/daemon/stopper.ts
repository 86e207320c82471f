/**
 * Planned stop (SPEC §4): marker, request, SIGTERM fallback, SIGKILL after the timeout, and the
 * intent `stopped` recorded however the host ended. `stop` reports success only after checking
 * that the daemon is really down.
 *
 * A supervisor hosts many daemons: it is never signalled on behalf of one of them. When it does
 * not answer, the stop fails and says so.
 */
import type { Metadata } from "../schema/metadata.ts";
import type { StopReason } from "../schema/planned-stop.ts";
import { statusSchema, type Status } from "../schema/status.ts";
import { stopResultSchema } from "../schema/protocol.ts";
import { DEFAULTS } from "../schema/definition.ts";
import { isSameProcess, signalVerified, waitForDeath } from "./identity.ts";
import { INTENT_NOT_RECORDED, readState, setIntent, unrecordedStopMessage, writePlannedStopMarker } from "./intent.ts";
import { killableHost, killHost, metadataFor, provenHost, stopInvocations, unsettledNote } from "./ownership.ts";
import { daemonFiles, type DaemonFiles, type Dirs } from "./paths.ts";
import { busyMessage, probeOwnerPatiently } from "./probe.ts";
import { ControlClient, requestOnce } from "./protocol.ts";
import { inodeOf, removeQuietly } from "./store.ts";
import { acquireLock, tryLock } from "./lock.ts";
import type { Logger } from "./host.ts";

export type StopOutcome = { kind: "stopped"; wasRunning: boolean; notes: string[] } | { kind: "failed"; message: string };

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
  const timeoutMs = o.timeoutMs ?? (readState(files)?.definition?.stopTimeout ?? DEFAULTS.stopTimeout) + 2_000;
  // A busy host is alive: it gets a stop request, never a signal chosen from stale metadata.
  let probe = await probeOwnerPatiently(files.socket, o.probeTimeoutMs, timeoutMs);
  if (probe.kind !== "live" && probe.kind !== "busy" && probe.kind !== "denied" && (await startFinished(files, timeoutMs))) {
    // A start was in flight (it holds the spawn lock until its daemon is up): stop what it started.
    probe = await probeOwnerPatiently(files.socket, o.probeTimeoutMs, timeoutMs);
  }
  if (probe.kind === "denied") return { kind: "failed", message: probe.reason };
  if (probe.kind === "busy") return { kind: "failed", message: `${busyMessage(name, probe.reason)} — try again` };
  const notes: string[] = [];
  let wasRunning = false;
  if (probe.kind === "live") {
    // The host records intent itself before it stops anything (it may write where we may not:
    // a root supervisor and a `docker exec -u app` client).
    wasRunning = true;
    const r = await stopLiveOwner(files, probe.status, o.reason, { timeoutMs, probeTimeoutMs: o.probeTimeoutMs }, notes);
    if (r.kind === "failed") return r;
  } else {
    const recorded = recordStopIntent(files, o.reason);
    if (!recorded.ok) return { kind: "failed", message: recorded.message };
    // Nobody answers. A hung standalone host, or an orphan whose host died, may still hold a
    // port: stop what we can prove is ours, and never signal a pid we cannot verify.
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
  }
  return { kind: "stopped", wasRunning, notes };
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

/**
 * Intent first, then the stop: a stop that cannot be remembered would be undone by the next
 * `reconcile` or container restart, so when the state file cannot be written (disk full,
 * read-only volume) nothing is stopped and the operator is told why and how to fix it.
 * `restart` starts the daemon again at once: for it, intent stays best effort.
 */
function recordStopIntent(files: DaemonFiles, reason: StopReason): { ok: true } | { ok: false; message: string } {
  const st = readState(files);
  if (!st || st.intent === "stopped") return { ok: true };
  const w = setIntent(files, "stopped");
  if (w.ok || reason !== "stop") return { ok: true };
  return { ok: false, message: unrecordedStopMessage(files, w.message) };
}

export type LiveStop = { kind: "host-exited" } | { kind: "child-stopped" } | { kind: "failed"; message: string };

/**
 * Planned stop of a verified live owner. A standalone host answers and exits (or, silent, gets
 * SIGTERM and after `timeoutMs` SIGKILL); a supervisor stops that daemon's child and keeps
 * serving. Used by `stop`/`restart` and by a binding host replacing a stale owner.
 */
export async function stopLiveOwner(
  files: DaemonFiles,
  s: Status,
  reason: StopReason,
  o: { timeoutMs: number; probeTimeoutMs: number },
  notes: string[],
): Promise<LiveStop> {
  const host = { pid: s.pid!, identity: s.pidIdentity! };
  const marker = writePlannedStopMarker(files, host, reason);
  if (!marker.ok) notes.push(`${marker.message}; the stop request itself says it is planned`);
  const socketIno = inodeOf(files.socket);
  const r = await requestOnce(files.socket, "stop", { reason }, Math.max(o.probeTimeoutMs, 1_000));
  const answer = "kind" in r && r.kind === "ok" ? stopResultSchema().safeParse(r.result) : null;
  const meta = metadataFor(files);
  // Judged from the process, not the file: only a host proven to be this daemon's standalone
  // host may be signalled (forged metadata must never get a listener's pid SIGTERMed).
  const standalone = meta !== null && meta.pid === host.pid && killableHost(meta, files);

  if (answer?.success && !answer.data.hostExits) {
    if (await waitChildStopped(files, o.timeoutMs, o.probeTimeoutMs)) return { kind: "child-stopped" };
    const child = meta?.child ?? null;
    notes.push(`child${child ? ` pid ${child.pid}` : ""} did not stop in time; sent SIGKILL`);
    if (!meta || (await stopInvocations(files, meta, 0)).gone) return { kind: "child-stopped" };
    return { kind: "failed", message: `${files.name}'s child did not stop` };
  }
  if (!answer?.success) {
    if ("kind" in r && r.kind === "error" && r.code === INTENT_NOT_RECORDED) {
      removeQuietly(files.marker); // the host stays up: a later SIGTERM is not this stop
      return { kind: "failed", message: r.message };
    }
    // It may simply have gone meanwhile (its child ended, or another stop won the race).
    if (hostGoneNow(files.socket, socketIno, host)) return { kind: "host-exited" };
    if (!standalone) {
      return { kind: "failed", message: `pid ${host.pid} (a supervisor, or a host daemonctl cannot identify) did not accept the stop request; it is not signalled on behalf of one daemon` };
    }
    const recorded = recordStopIntent(files, reason);
    if (!recorded.ok) return { kind: "failed", message: recorded.message };
    notes.push(`pid ${host.pid} did not accept the stop request; sent SIGTERM`);
    signalVerified(host.pid, host.identity, "SIGTERM");
  }
  if (await waitHostGone(files.socket, socketIno, host, o.timeoutMs)) return { kind: "host-exited" };
  if (!standalone || !meta) return { kind: "failed", message: `pid ${host.pid} did not stop within ${o.timeoutMs} ms` };
  notes.push(`pid ${host.pid} still running after ${o.timeoutMs} ms; sent SIGKILL`);
  await killHost(meta, files);
  const childGone = (await stopInvocations(files, meta, 1_000)).gone;
  if (!isSameProcess(host.pid, host.identity) && childGone) return { kind: "host-exited" };
  return { kind: "failed", message: `pid ${host.pid} could not be stopped` };
}

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

function hostGoneNow(socket: string, ino: number | null, host: { pid: number; identity: string }): boolean {
  return ino === null || inodeOf(socket) !== ino || !isSameProcess(host.pid, host.identity);
}

/** Until the socket is gone or replaced (a host removes it last) or the host process is dead. */
export async function waitHostGone(socket: string, ino: number | null, host: { pid: number; identity: string }, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hostGoneNow(socket, ino, host)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A supervisor keeps serving: wait until it reports the child down. */
async function waitChildStopped(files: DaemonFiles, timeoutMs: number, probeTimeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let client: ControlClient | null = null;
  try {
    while (Date.now() < deadline) {
      if (!client) {
        const c = await ControlClient.open(files.socket, probeTimeoutMs);
        if (!(c instanceof ControlClient)) return true;
        client = c;
      }
      const r = await client.request("status", undefined, probeTimeoutMs);
      if (r.kind === "error") {
        // Evicted, or refused at the limit: the supervisor is alive; ask again on a new connection.
        client.close();
        client = null;
        await new Promise((res) => setTimeout(res, 20));
        continue;
      }
      if (r.kind !== "ok") return r.kind === "closed";
      const s = statusSchema().safeParse(r.result);
      if (s.success && s.data.child?.pid == null && s.data.state !== "stopping") return true;
      await new Promise((res) => setTimeout(res, 20));
    }
    return false;
  } finally {
    (client as ControlClient | null)?.close();
  }
}
