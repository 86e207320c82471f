/**
 * `signal`: asks the daemon's host to send a signal to its child (or the child's process group).
 * The host does it because only the host knows its child's pid is still that child; the daemon's
 * end, if the signal ends it, is handled by its restart policy like any other exit.
 */
import { requestOnce } from "../wire/client.ts";
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { leftTraces } from "../state/known.ts";

export type SignalOutcome =
  | { kind: "signalled"; pid: number | null; signal: string; group: boolean }
  | { kind: "unknown" }
  | { kind: "not-running"; message: string }
  | { kind: "failed"; message: string };

export async function signalDaemon(name: string, signal: string, group: boolean, dirs: Dirs, timeoutMs: number): Promise<SignalOutcome> {
  if (!leftTraces(dirs, name)) return { kind: "unknown" };
  const r = await requestOnce(daemonFiles(dirs, name).socket, "signal", { signal, group }, timeoutMs);
  if (!("kind" in r)) return { kind: "not-running", message: `${name} is not running` };
  if (r.kind === "ok") {
    const res = r.result as { signalled?: number | null; signal?: string };
    return { kind: "signalled", pid: res.signalled ?? null, signal: res.signal ?? signal, group };
  }
  if (r.kind === "error" && r.code === "no-child") return { kind: "not-running", message: `${name} is not running (${r.message})` };
  if (r.kind === "error") return { kind: "failed", message: r.message };
  return { kind: "failed", message: `the host for ${name} did not answer (${r.kind})` };
}
