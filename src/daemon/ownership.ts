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

/** A standalone host (never a supervisor, which serves other daemons too) that we can prove. */
export function killableHost(meta: Metadata): boolean {
  return meta.supervised === false && meta.pid !== process.pid && provenHost(meta);
}

/** SIGKILL to a previous host proven ours: a frozen process cannot run its handlers. */
export async function killHost(meta: Metadata): Promise<boolean> {
  if (!killableHost(meta)) return false;
  const sent = signalVerified(meta.pid, meta.pidIdentity, "SIGKILL");
  if (sent) await waitForDeath(meta.pid, meta.pidIdentity, 2_000);
  return sent;
}

/**
 * Stops a child proven ours: SIGTERM to its group (it may be healthy and deserve a clean exit),
 * SIGKILL after `timeoutMs`. Returns whether it is gone afterwards (true if it was not there).
 */
export async function stopProvenChild(child: ChildRef | null, timeoutMs: number): Promise<boolean> {
  // One we cannot prove is not signalled; it counts as gone only if it really is.
  const claimed: ChildRef | null = child;
  if (!provenChild(child)) return !claimed || !isSameProcess(claimed.pid, claimed.identity);
  signalGroupVerified(child.pid, child.identity, "SIGTERM");
  if (await waitForDeath(child.pid, child.identity, timeoutMs)) return true;
  signalGroupVerified(child.pid, child.identity, "SIGKILL");
  return waitForDeath(child.pid, child.identity, 2_000);
}
