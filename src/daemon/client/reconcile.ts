/**
 * Reconcile (docs/run-intent.md#daemonctl-reconcile): bring back every daemon whose intent is
 * `running` and that is not live; leave `stopped` ones down; do not crash-loop one that last
 * `failed`.
 */
import type { ReconcileLine } from "../../schema/reconcile.ts";
import { definitionIdentity } from "../definition/freshness.ts";
import type { Logger } from "../../logger.ts";
import type { Sharing } from "../state/sharing.ts";
import { bootAction, priorOf, readState } from "../state/intent.ts";
import { knownDaemons } from "../state/known.ts";
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { probeOwner } from "../owner/probe.ts";
import { startDaemon } from "./spawner.ts";

export interface ReconcileOptions {
  dirs: Dirs;
  sharing: Sharing;
  probeTimeoutMs: number;
  waitMs: number;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

export async function reconcileAll(o: ReconcileOptions): Promise<ReconcileLine[]> {
  const names = knownDaemons(o.dirs);
  return Promise.all(names.map((name) => reconcileOne(name, o)));
}

async function reconcileOne(name: string, o: ReconcileOptions): Promise<ReconcileLine> {
  const files = daemonFiles(o.dirs, name);
  const st = readState(files);
  const prior = priorOf(st);
  const probe = await probeOwner(files.socket, o.probeTimeoutMs);
  if (probe.kind === "live" && probe.status.state !== "stopped" && probe.status.state !== "failed") return { name, prior, action: "already-running" };
  const action = bootAction(st, false);
  if (action !== "start") return { name, prior, action };
  if (!st?.definition) return { name, prior, action: "start-failed", error: `no stored definition in ${files.state}` };
  const outcome = await startDaemon({
    resolved: { name, definition: st.definition, identity: definitionIdentity(st.definition), source: "state" },
    dirs: o.dirs,
    sharing: o.sharing,
    probeTimeoutMs: o.probeTimeoutMs,
    waitMs: o.waitMs,
    env: o.env,
    log: o.log,
  });
  if (outcome.kind === "failed") return { name, prior, action: "start-failed", error: outcome.message };
  return { name, prior, action: outcome.kind === "already-running" ? "already-running" : "started" };
}
