/**
 * Taking a daemon from a live owner: the planned stop that `stop`, `restart` and a binding host
 * replacing a stale owner all go through (docs/run-intent.md), and the waits that tell when the
 * owner is gone. A supervisor is never signalled on behalf of one daemon.
 */
import type { StopReason } from "../../schema/planned-stop.ts";
import { statusSchema, type Status } from "../../schema/status.ts";
import { stopResultSchema } from "../../schema/protocol.ts";
import { isSameProcess, signalVerified } from "../../platform/identity.ts";
import { INTENT_NOT_RECORDED, recordStopIntent, writePlannedStopMarker } from "../state/intent.ts";
import type { DaemonFiles } from "../state/paths.ts";
import { inodeOf, removeQuietly } from "../state/store.ts";
import { ControlClient, requestOnce } from "../wire/client.ts";
import { killableHost, killHost, metadataFor, stopInvocations } from "./proof.ts";
import { pollUntil } from "../../poll.ts";
import { formatDuration } from "../../schema/units.ts";

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
  if (!standalone || !meta) return { kind: "failed", message: `pid ${host.pid} did not stop within ${formatDuration(o.timeoutMs)}` };
  notes.push(`pid ${host.pid} still running after ${formatDuration(o.timeoutMs)}; sent SIGKILL`);
  await killHost(meta, files);
  const childGone = (await stopInvocations(files, meta, 1_000)).gone;
  if (!isSameProcess(host.pid, host.identity) && childGone) return { kind: "host-exited" };
  return { kind: "failed", message: `pid ${host.pid} could not be stopped` };
}

function hostGoneNow(socket: string, ino: number | null, host: { pid: number; identity: string }): boolean {
  return ino === null || inodeOf(socket) !== ino || !isSameProcess(host.pid, host.identity);
}

/** Until the socket is gone or replaced (a host removes it last) or the host process is dead. */
export function waitHostGone(socket: string, ino: number | null, host: { pid: number; identity: string }, timeoutMs: number): Promise<boolean> {
  return pollUntil(() => hostGoneNow(socket, ino, host), timeoutMs, { maxMs: 10 });
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
