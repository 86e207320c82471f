/**
 * Proof that a pid read from metadata is really this daemon's host or child, before we kill it.
 *
 * Identity (boot id + start time) proves the pid was not reused. Ownership proves the process
 * is ours at all, so forged or garbage metadata naming some unrelated live process can never
 * make us signal it:
 * - a host must hold the listening socket bound at its unique `bindPath` (see /proc/net/unix);
 * - a child must carry our invocation id in its environment.
 */
import { holdsSocketInode, readEnviron, unixListenerInodes } from "../platform/proc.ts";
import type { ChildRef, Metadata } from "../schema/metadata.ts";
import { isSameProcess, signalGroupVerified, signalVerified, waitForDeath } from "./identity.ts";

export const INVOCATION_ENV = "DAEMONCTL_INVOCATION";
export const NAME_ENV = "DAEMONCTL_NAME";

export function provenHost(meta: Pick<Metadata, "pid" | "pidIdentity" | "bindPath">): boolean {
  if (!meta.bindPath || !isSameProcess(meta.pid, meta.pidIdentity)) return false;
  return holdsSocketInode(meta.pid, unixListenerInodes(meta.bindPath));
}

export function provenChild(child: ChildRef | null): child is ChildRef {
  if (!child || !child.invocation || !isSameProcess(child.pid, child.identity)) return false;
  return readEnviron(child.pid)?.includes(`${INVOCATION_ENV}=${child.invocation}`) ?? false;
}

export interface OrphanKill {
  host: boolean;
  child: boolean;
}

/**
 * Kills a previous owner that no longer answers, and its child, so nothing keeps a port or file
 * busy. The host gets SIGKILL: a frozen process cannot run its handlers. The child gets SIGTERM
 * (it may be healthy and deserve a clean exit) and SIGKILL after `childTimeoutMs`.
 */
export async function killPreviousOwner(meta: Metadata, childTimeoutMs: number, skipPid = process.pid): Promise<OrphanKill> {
  const out: OrphanKill = { host: false, child: false };
  if (meta.pid !== skipPid && provenHost(meta)) {
    out.host = signalVerified(meta.pid, meta.pidIdentity, "SIGKILL");
    if (out.host) await waitForDeath(meta.pid, meta.pidIdentity, 2_000);
  }
  const child = meta.child;
  if (provenChild(child)) {
    out.child = signalGroupVerified(child.pid, child.identity, "SIGTERM");
    if (!(await waitForDeath(child.pid, child.identity, childTimeoutMs))) {
      signalGroupVerified(child.pid, child.identity, "SIGKILL");
      await waitForDeath(child.pid, child.identity, 2_000);
    }
  }
  return out;
}
