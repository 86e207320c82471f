/**
 * Forgetting a daemon's files (`delete`, and `supervise` dropping a daemon on reload) safely
 * against a `start` of the same name at the same moment.
 */
import { removeQuietly } from "../state/store.ts";
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { filesLeftBy } from "../state/known.ts";
import { acquireLock, type Lock } from "../state/lock.ts";
import type { LockRole } from "../../schema/lock-holder.ts";
import { probeOwner } from "./probe.ts";

export type ForgetOutcome =
  | { kind: "removed"; files: string[] }
  /** A lock stayed held for 10 s (a start in progress?): nothing was removed. */
  | { kind: "locked"; path: string }
  /** A start won the race: it keeps running, with its files. */
  | { kind: "started-again" };

/**
 * Removes the daemon's files holding its spawn and bind locks, the lock files last: a `start` or
 * host racing us either waits and then finds nothing, or comes after and starts afresh; never two
 * holders of two lock files of one name. A start that won the race is left running (and said),
 * its files untouched.
 */
export async function forgetDaemonFiles(dirs: Dirs, name: string, probeTimeoutMs: number, role: LockRole): Promise<ForgetOutcome> {
  const files = daemonFiles(dirs, name);
  const lockPaths = [files.spawnLock, files.bindLock];
  const locks: Lock[] = [];
  try {
    for (const path of lockPaths) {
      const got = await acquireLock(path, 10_000, { role });
      if (got.kind !== "locked") return { kind: "locked", path };
      locks.push(got.lock);
    }
    if ((await probeOwner(files.socket, probeTimeoutMs)).kind === "live") return { kind: "started-again" };
    const removed = filesLeftBy(dirs, name).filter((f) => !lockPaths.includes(f) && removeQuietly(f));
    for (const f of lockPaths) if (removeQuietly(f)) removed.push(f);
    return { kind: "removed", files: removed };
  } finally {
    for (const l of locks) l.release();
  }
}
