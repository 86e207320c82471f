/**
 * `reload`: find the supervisor that serves this runtime directory and ask it to read its config
 * again (docs/containers.md#reloading-the-config).
 *
 * A supervisor has no socket of its own: every daemon it hosts answers on its own socket, and any
 * of them passes the request on. So: the first daemon whose metadata says `supervised` and whose
 * live host is the process that metadata names.
 */
import { isSameProcess } from "../../platform/identity.ts";
import { metadataSchema } from "../../schema/metadata.ts";
import { reloadResultSchema, type ReloadResult } from "../../schema/protocol.ts";
import { knownDaemons } from "../state/known.ts";
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { readJson } from "../state/store.ts";
import { probeOwner } from "../owner/probe.ts";
import { requestOnce } from "../wire/client.ts";

export type ReloadOutcome =
  | { kind: "reloaded"; result: ReloadResult; supervisor: number }
  | { kind: "no-supervisor"; message: string }
  | { kind: "refused"; code: string; message: string; supervisor: number }
  | { kind: "failed"; message: string };

export async function reloadSupervisor(dirs: Dirs, o: { dryRun: boolean; probeTimeoutMs: number; timeoutMs: number }): Promise<ReloadOutcome> {
  // The socket we pick may belong to a daemon an earlier reload is removing right now: then it
  // closes under us, and another of the supervisor's sockets is asked.
  for (let attempt = 1; ; attempt++) {
    const found = await findSupervisor(dirs, o.probeTimeoutMs);
    if (found && "silent" in found) return { kind: "failed", message: found.silent };
    if (!found) {
      return { kind: "no-supervisor", message: `no \`daemonctl supervise\` serves ${dirs.runtimeDir} (nothing to reload; SIGHUP reloads a supervisor too)` };
    }
    const r = await requestOnce(found.socket, "reload", { dryRun: o.dryRun }, o.timeoutMs);
    const lost = !("kind" in r) || r.kind === "closed";
    if (lost && attempt < 3) continue;
    if (!("kind" in r)) return { kind: "failed", message: `cannot reach the supervisor (pid ${found.pid}) at ${found.socket}: ${r.message}` };
    if (r.kind === "error") return { kind: "refused", code: r.code, message: r.message, supervisor: found.pid };
    if (r.kind === "closed") return { kind: "failed", message: `the supervisor (pid ${found.pid}) closed the connection without answering; is it shutting down?` };
    if (r.kind !== "ok") return { kind: "failed", message: `the supervisor (pid ${found.pid}) did not answer within ${o.timeoutMs} ms` };
    return reloaded(r.result, found.pid);
  }
}

function reloaded(raw: unknown, pid: number): ReloadOutcome {
  const parsed = reloadResultSchema().safeParse(raw);
  if (!parsed.success) return { kind: "failed", message: "the supervisor's answer does not match daemonctl's reload result; is it another version?" };
  return { kind: "reloaded", result: parsed.data, supervisor: pid };
}

async function findSupervisor(dirs: Dirs, probeTimeoutMs: number): Promise<{ socket: string; pid: number } | { silent: string } | null> {
  let silent: string | null = null;
  for (const name of knownDaemons(dirs)) {
    const files = daemonFiles(dirs, name);
    const meta = readJson(files.metadata, metadataSchema());
    if (meta.kind !== "ok" || meta.value.supervised !== true) continue;
    const probe = await probeOwner(files.socket, probeTimeoutMs);
    if (probe.kind === "live" && probe.status.pid === meta.value.pid) return { socket: files.socket, pid: meta.value.pid };
    // A frozen or overwhelmed supervisor is still there: "none serves this directory" would be false.
    if ((probe.kind === "hung" || probe.kind === "busy") && isSameProcess(meta.value.pid, meta.value.pidIdentity)) {
      silent ??= `the supervisor (pid ${meta.value.pid}) does not answer on ${files.socket}: ${probe.reason}`;
    }
  }
  return silent === null ? null : { silent };
}
