/**
 * The host bind guard (docs/how-it-works.md#the-host-and-its-bind-guard): decide, under the bind
 * lock, whether this host may bind the daemon's socket, and clear the way if so.
 *
 * 1. Probe the socket with a status request (probe.ts).
 * 2. Live and fresh: do not bind; reconcile metadata if it does not name the responder. Alive
 *    but too busy to give its status: do not bind either, and say so.
 * 3. Live but stale: planned stop of the old owner (reason `replace`), then bind.
 * 4. Not live: kill a proven previous host and every process of its recorded invocations,
 *    unlink the stale socket, bind.
 *
 * The bind lock is not the client spawn lock: a client holding its lock while it waits for
 * readiness must never deadlock the host it is waiting for. Nor may a frozen holder block us for
 * ever: a frozen standalone host holding the bind lock is killed (the kernel then releases the
 * lock); a frozen supervisor or client is not ours to kill, and that is reported instead.
 */
import type { Status } from "../../schema/status.ts";
import { signalVerified } from "../../platform/identity.ts";
import { acquireLock, type FrozenHolderPolicy, type LockOptions } from "../state/lock.ts";
import { followUnsettledForks, invocationsOf, killHost, metadataFor, stopInvocations, unsettledNote } from "../owner/proof.ts";
import { stopLiveOwner } from "../owner/takeover.ts";
import { reconcileMetadataFromStatus } from "../owner/metadata.ts";
import type { DaemonFiles } from "../state/paths.ts";
import { busyMessage, probeOwnerPatiently } from "../owner/probe.ts";
import { unlinkIfSocket } from "../state/store.ts";
import { formatDuration } from "../../schema/units.ts";

export type ClaimOutcome =
  | { kind: "bound" }
  | { kind: "already-running"; pid: number; reconciled: boolean }
  | { kind: "supervised-elsewhere"; pid: number }
  | { kind: "busy"; message: string }
  | { kind: "error"; message: string };

export interface ClaimOptions {
  files: DaemonFiles;
  /** Our definition identity: a live owner with another one is stale. */
  identity: string;
  probeTimeoutMs: number;
  stopTimeoutMs: number;
  lock: LockOptions;
  /** Binds the socket (the caller's server); runs with the lock held. */
  bind(): Promise<void>;
  log(level: "info" | "warn", message: string): void;
  event(type: "reclaim" | "replace", pid: number | null): void;
}

const BIND_LOCK_TIMEOUT_MS = 60_000;
/** How many probe timeouts a binding host keeps asking a busy owner before it gives up. */
const BUSY_PATIENCE_PROBES = 4;

export async function claimSocket(o: ClaimOptions): Promise<ClaimOutcome> {
  const got = await acquireLock(o.files.bindLock, BIND_LOCK_TIMEOUT_MS, o.lock, frozenBindLockHolder(o));
  if (got.kind === "timeout") return { kind: "error", message: `timed out after ${formatDuration(BIND_LOCK_TIMEOUT_MS)} waiting for the bind lock ${o.files.bindLock}` };
  if (got.kind === "refused") return { kind: "error", message: got.message };
  // "proceed" is never chosen below: without the bind lock nothing would serialise hosts.
  if (got.kind !== "locked") return { kind: "error", message: `cannot take the bind lock ${o.files.bindLock}` };
  try {
    return await claimLocked(o);
  } finally {
    got.lock.release();
  }
}

/**
 * A frozen process holds the bind lock (lock.ts has proved who and that it is stopped). A
 * standalone host gets SIGKILL: it cannot run handlers while stopped, and only its death makes
 * the kernel release the lock; whatever it had bound or spawned is reclaimed below as usual.
 */
function frozenBindLockHolder(o: ClaimOptions): FrozenHolderPolicy {
  return (holder) => {
    const lockPath = o.files.bindLock;
    if (holder.pid === process.pid) return { action: "wait" };
    if (holder.role === "supervisor") {
      return { action: "refuse", message: `the bind lock ${lockPath} is held by the supervisor pid ${holder.pid}, which is stopped (SIGSTOP); it is not killed on behalf of one daemon: resume it (kill -CONT ${holder.pid}) or stop it` };
    }
    if (holder.role === "client") {
      return { action: "refuse", message: `the bind lock ${lockPath} is held by the daemonctl command pid ${holder.pid}, which is stopped (SIGSTOP); resume it (kill -CONT ${holder.pid}) or end it, then retry` };
    }
    o.log("warn", `${o.files.name}: the bind lock is held by host pid ${holder.pid}, which is stopped; killing it`);
    // The kernel drops its lock as it dies; acquireLock's next try takes it.
    if (signalVerified(holder.pid, holder.identity, "SIGKILL")) o.event("reclaim", holder.pid);
    return { action: "wait" };
  };
}

async function claimLocked(o: ClaimOptions): Promise<ClaimOutcome> {
  const { files } = o;
  const probe = await probeOwnerPatiently(files.socket, o.probeTimeoutMs, o.probeTimeoutMs * BUSY_PATIENCE_PROBES);
  if (probe.kind === "denied") return { kind: "error", message: probe.reason };
  if (probe.kind === "busy") return { kind: "busy", message: busyMessage(files.name, probe.reason) };
  if (probe.kind === "live") {
    if (probe.status.identity === o.identity) {
      const reconciled = reconcileMetadataFromStatus(files, probe.status);
      return { kind: "already-running", pid: probe.status.pid!, reconciled };
    }
    const replaced = await replaceStaleOwner(o, probe.status);
    if (replaced) return replaced;
  } else if (probe.kind === "hung" || probe.kind === "foreign") {
    o.log("warn", `${files.name}: previous owner of ${files.socket} is not answering (${probe.reason}); reclaiming`);
  }

  await reclaimFromPrevious(o);
  if (unlinkIfSocket(files.socket) === "not-a-socket") {
    return { kind: "error", message: `${files.socket} exists and is not a socket; refusing to remove it (move it away and retry)` };
  }
  await o.bind();
  return { kind: "bound" };
}

/**
 * Step 4 (also after a replace): kill the previous host if proven ours, and every process of its
 * recorded invocations, so nothing of the old owner outlives our bind.
 */
async function reclaimFromPrevious(o: ClaimOptions): Promise<void> {
  const { files } = o;
  const meta = metadataFor(files);
  if (!meta || meta.pid === process.pid) return;
  // A hung standalone host dies with its child; a hung supervisor keeps running (it serves
  // other daemons) but loses this daemon's child, which we are about to run ourselves. The
  // host goes first: a dead host spawns nothing more.
  const host = await killHost(meta, files);
  const orphans = await stopInvocations(files, meta, o.stopTimeoutMs);
  if (host || orphans.pids.length > 0) {
    const what = [host && `host ${meta.pid}`, orphans.pids.length > 0 && `child ${orphans.pids.join(", ")}`].filter(Boolean).join(" and ");
    o.log("warn", `${files.name}: killed previous ${what}`);
    o.event("reclaim", meta.pid);
  }
  if (!orphans.gone) o.log("warn", `${files.name}: a previous child (pid ${orphans.pids.join(", ")}) survived SIGKILL`);
  if (orphans.unsettled.length > 0) {
    // Our metadata will no longer name the old invocation: watch those forks ourselves.
    o.log("warn", `${files.name}: ${unsettledNote(orphans.unsettled)}; watching it`);
    void followUnsettledForks(files.name, invocationsOf(meta), orphans.unsettled, 60_000, (pid) => o.log("warn", `${files.name}: killed previous child ${pid} (it exec'd late)`));
  }
}

/**
 * Step 3: planned stop (reason `replace`) of a live owner running another definition, through
 * the same path as `daemonctl stop`. A supervisor keeps its socket after a stop: it is not ours
 * to replace, so that is reported instead.
 */
async function replaceStaleOwner(o: ClaimOptions, s: Status): Promise<ClaimOutcome | null> {
  o.log("info", `${o.files.name}: replacing pid ${s.pid}, which runs a different definition`);
  o.event("replace", s.pid);
  const notes: string[] = [];
  const r = await stopLiveOwner(o.files, s, "replace", { timeoutMs: o.stopTimeoutMs + 2_000, probeTimeoutMs: o.probeTimeoutMs }, notes);
  for (const n of notes) o.log("warn", `${o.files.name}: ${n}`);
  if (r.kind === "child-stopped") return { kind: "supervised-elsewhere", pid: s.pid! };
  if (r.kind === "failed") return { kind: "error", message: r.message };
  return null;
}
