/**
 * `delete`: a planned stop, then every file of the daemon goes (definition and intent in the
 * state file, metadata, marker, locks, logs), so `list` no longer shows it.
 *
 * A daemon hosted by `supervise` is refused while its supervisor answers: the supervisor would
 * keep hosting it and write its files again; it comes from the config, which is where to remove it.
 */
import { readJson } from "../state/store.ts";
import { metadataSchema } from "../../schema/metadata.ts";
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { filesLeftBy, leftTraces } from "../state/known.ts";
import { probeOwner } from "../owner/probe.ts";
import { stopDaemon, type StopOptions } from "./stopper.ts";
import { forgetDaemonFiles } from "../owner/forget.ts";

export type DeleteOutcome =
  | { kind: "deleted"; wasRunning: boolean; removed: string[]; notes: string[] }
  | { kind: "unknown" }
  | { kind: "failed"; message: string };

export async function deleteDaemon(name: string, o: Omit<StopOptions, "reason">): Promise<DeleteOutcome> {
  if (!leftTraces(o.dirs, name)) return { kind: "unknown" };
  const supervisor = await liveSupervisor(o.dirs, name, o.probeTimeoutMs);
  if (supervisor !== null) {
    return {
      kind: "failed",
      message: `${name} is hosted by \`daemonctl supervise\` (pid ${supervisor}), which would keep it; remove it from that config (or stop it with \`daemonctl stop ${name}\`)`,
    };
  }
  const stopped = await stopDaemon(name, { ...o, reason: "stop" });
  if (stopped.kind === "failed") return { kind: "failed", message: `could not stop it: ${stopped.message}` };
  const forgot = await forgetDaemonFiles(o.dirs, name, o.probeTimeoutMs, "client");
  if (forgot.kind === "locked") return { kind: "failed", message: `stopped, but ${forgot.path} stayed locked (a start in progress?); run delete again` };
  if (forgot.kind === "started-again") return { kind: "failed", message: `${name} was started again meanwhile; it keeps running` };
  const left = filesLeftBy(o.dirs, name);
  if (left.length) return { kind: "failed", message: `stopped, but could not remove ${left.join(", ")}` };
  return { kind: "deleted", wasRunning: stopped.wasRunning, removed: forgot.files, notes: stopped.notes };
}

/** The pid of a supervisor that answers for `name`, or null (standalone, or nobody answers). */
async function liveSupervisor(dirs: Dirs, name: string, probeTimeoutMs: number): Promise<number | null> {
  const files = daemonFiles(dirs, name);
  const probe = await probeOwner(files.socket, probeTimeoutMs);
  if (probe.kind !== "live") return null;
  const meta = readJson(files.metadata, metadataSchema());
  return meta.kind === "ok" && meta.value.supervised === true && meta.value.pid === probe.status.pid ? probe.status.pid : null;
}
