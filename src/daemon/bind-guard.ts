/**
 * The host bind guard (SPEC §3): decide, under the bind lock, whether this host may bind the
 * daemon's socket, and clear the way if so.
 *
 * 1. Probe the socket with a status request (probe.ts).
 * 2. Live and fresh: do not bind; reconcile metadata if it does not name the responder.
 * 3. Live but stale: planned stop of the old owner (reason `replace`), then bind.
 * 4. Not live: kill a proven previous host and child, unlink the stale socket, bind.
 *
 * The bind lock is not the client spawn lock: a client holding its lock while it waits for
 * readiness must never deadlock the host it is waiting for.
 */
import { METADATA_SCHEMA, metadataSchema, type Metadata } from "../schema/metadata.ts";
import type { Status } from "../schema/status.ts";
import { PROTOCOL_VERSION } from "../schema/protocol.ts";
import { identityOf, signalVerified, waitForDeath } from "./identity.ts";
import { writePlannedStopMarker } from "./intent.ts";
import { acquireLock, type LockOptions } from "./lock.ts";
import { killPreviousOwner } from "./ownership.ts";
import type { DaemonFiles } from "./paths.ts";
import { probeOwner } from "./probe.ts";
import { requestOnce } from "./protocol.ts";
import { inodeOf, readJson, unlinkIfSocket, writeJsonAtomic } from "./store.ts";

export type ClaimOutcome =
  | { kind: "bound" }
  | { kind: "already-running"; pid: number; reconciled: boolean }
  | { kind: "supervised-elsewhere"; pid: number }
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

export async function claimSocket(o: ClaimOptions): Promise<ClaimOutcome> {
  const lock = await acquireLock(o.files.bindLock, BIND_LOCK_TIMEOUT_MS, o.lock);
  if (!lock) return { kind: "error", message: `timed out after ${BIND_LOCK_TIMEOUT_MS} ms waiting for the bind lock ${o.files.bindLock}` };
  try {
    return await claimLocked(o);
  } finally {
    lock.release();
  }
}

async function claimLocked(o: ClaimOptions): Promise<ClaimOutcome> {
  const { files } = o;
  const probe = await probeOwner(files.socket, o.probeTimeoutMs);
  if (probe.kind === "denied") return { kind: "error", message: probe.reason };
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

  const meta = readJson(files.metadata, metadataSchema());
  if (meta.kind === "ok" && meta.value.pid !== process.pid) {
    const killed = await killPreviousOwner(meta.value, o.stopTimeoutMs);
    if (killed.host || killed.child) {
      o.log("warn", `${files.name}: killed previous ${[killed.host && `host ${meta.value.pid}`, killed.child && `child ${meta.value.child?.pid}`].filter(Boolean).join(" and ")}`);
      o.event("reclaim", meta.value.pid);
    }
  }
  if (unlinkIfSocket(files.socket) === "not-a-socket") {
    return { kind: "error", message: `${files.socket} exists and is not a socket; refusing to remove it (move it away and retry)` };
  }
  await o.bind();
  return { kind: "bound" };
}

/** Step 2: a live, fresh owner stays; make sure metadata names it. Returns whether it rewrote. */
export function reconcileMetadataFromStatus(files: DaemonFiles, s: Status): boolean {
  const meta = readJson(files.metadata, metadataSchema());
  if (meta.kind === "ok" && meta.value.pid === s.pid && meta.value.pidIdentity === s.pidIdentity && meta.value.socketPath === s.socketPath) return false;
  writeJsonAtomic(files.metadata, metadataSchema(), metadataFromStatus(files.name, s));
  return true;
}

export function metadataFromStatus(name: string, s: Status): Metadata {
  const childPid = s.child?.pid ?? null;
  const childIdentity = childPid ? identityOf(childPid) : null;
  return {
    schema: METADATA_SCHEMA,
    name,
    pid: s.pid!,
    pidIdentity: s.pidIdentity!,
    socketPath: s.socketPath!,
    bindPath: null,
    startedAt: s.startedAt ?? new Date().toISOString(),
    identity: s.identity ?? "",
    child: childPid && childIdentity ? { pid: childPid, identity: childIdentity, invocation: null } : null,
    version: s.version ?? "unknown",
    protocolVersion: s.protocolVersion ?? PROTOCOL_VERSION,
  };
}

/**
 * Step 3: planned stop (reason `replace`) of a live owner running another definition; wait until
 * its socket is gone or it is dead. A supervisor keeps its socket after a stop, so it is not ours
 * to replace: report that instead.
 */
async function replaceStaleOwner(o: ClaimOptions, s: Status): Promise<ClaimOutcome | null> {
  const { files } = o;
  const pid = s.pid!;
  const identity = s.pidIdentity!;
  o.log("info", `${files.name}: replacing pid ${pid}, which runs a different definition`);
  o.event("replace", pid);
  writePlannedStopMarker(files, { pid, identity }, "replace");
  const socketIno = inodeOf(files.socket);
  const r = await requestOnce(files.socket, "stop", { reason: "replace" }, o.probeTimeoutMs);
  if ("kind" in r && r.kind === "ok") {
    const res = r.result as { hostExits?: boolean } | null;
    if (res && res.hostExits === false) return { kind: "supervised-elsewhere", pid };
  } else {
    signalVerified(pid, identity, "SIGTERM");
  }
  const deadline = Date.now() + o.stopTimeoutMs + 2_000;
  while (Date.now() < deadline) {
    if (inodeOf(files.socket) !== socketIno) return null;
    if (await waitForDeath(pid, identity, 25)) return null;
  }
  o.log("warn", `${files.name}: pid ${pid} did not stop in time; killing it`);
  signalVerified(pid, identity, "SIGKILL");
  await waitForDeath(pid, identity, 2_000);
  return null;
}
