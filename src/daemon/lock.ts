/**
 * Advisory file locks (`flock`) that the kernel releases when the holder dies, even by SIGKILL.
 *
 * A lock file with a pid inside would need the same stale-owner guessing this tool exists to
 * avoid. flock has none: the lock lives exactly as long as the open file description.
 * We poll with LOCK_NB instead of blocking, because a blocking flock would freeze the event loop
 * of a host that must keep answering its socket while it waits.
 */
import { closeSync, openSync, fchownSync } from "node:fs";
import { LOCK_EX, LOCK_NB, LOCK_UN, loadLibc, libcError } from "../platform/ffi.ts";

export interface Lock {
  path: string;
  release(): void;
}

export interface LockOptions {
  mode?: number;
  gid?: number;
}

/** Takes the lock now or returns null if someone else holds it. Throws if locking is impossible. */
export async function tryLock(path: string, opts: LockOptions = {}): Promise<Lock | null> {
  const libc = await loadLibc();
  if (!libc) throw new Error(`file locking needs libc via FFI, which failed to load: ${libcError}`);
  const fd = openSync(path, "a", opts.mode ?? 0o600);
  if (opts.gid !== undefined && opts.gid >= 0) {
    try {
      fchownSync(fd, -1, opts.gid);
    } catch {
      // not the owner: the file already exists with its group
    }
  }
  if (libc.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(fd);
    return null;
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      libc.flock(fd, LOCK_UN);
      closeSync(fd);
    },
  };
}

/** Waits for the lock up to `timeoutMs`; null on timeout. */
export async function acquireLock(path: string, timeoutMs: number, opts: LockOptions = {}): Promise<Lock | null> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const lock = await tryLock(path, opts);
    if (lock) return lock;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 25);
  }
}
