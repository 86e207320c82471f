/**
 * Advisory file locks (`flock`) that the kernel releases when the holder dies, even by SIGKILL.
 *
 * A lock file with a pid inside would need the same stale-owner guessing this tool exists to
 * avoid. flock has none: the lock lives exactly as long as the open file description.
 * We poll with LOCK_NB instead of blocking, because a blocking flock would freeze the event loop
 * of a host that must keep answering its socket while it waits.
 *
 * A lock is released by its holder's death, not by its holder's freezing: a SIGSTOPped holder
 * keeps it for ever. So the holder writes who it is into the file (`daemonctl/lock-holder@1`),
 * and a waiter that finds the lock busy can learn that it is held by a frozen process and let
 * its caller decide (kill a frozen standalone host, go on without a frozen client's lock, or
 * give up with a clear error). The record alone proves nothing (it may be a previous holder's):
 * the waiter believes it only when /proc/locks shows that very pid holding a flock on this
 * file's inode, the pid still has the recorded start identity, and it is seen stopped twice.
 */
import { CliError } from "../../errors.ts";
import { closeSync, fstatSync, ftruncateSync, openSync, fchownSync, statSync, writeSync } from "node:fs";
import { readJsonOrNull } from "./store.ts";
import { LOCK_EX, LOCK_NB, LOCK_UN, loadLibc, libcError } from "../../platform/ffi.ts";
import { flockHolders } from "../../platform/proc.ts";
import { LOCK_HOLDER_SCHEMA, lockHolderSchema, type LockHolder, type LockRole } from "../../schema/lock-holder.ts";
import { isStopped, selfIdentity } from "../../platform/identity.ts";

export type { LockHolder, LockRole } from "../../schema/lock-holder.ts";

export interface Lock {
  path: string;
  release(): void;
}

export interface LockOptions {
  mode?: number;
  gid?: number;
  /** What the holder is, recorded in the lock file for waiters (default `client`). */
  role?: LockRole;
}

/** Takes the lock now or returns null if someone else holds it. Throws if locking is impossible. */
export async function tryLock(path: string, opts: LockOptions = {}): Promise<Lock | null> {
  const libc = await loadLibc();
  if (!libc) throw new Error(`file locking needs libc via FFI, which failed to load: ${libcError}`);
  let fd: number;
  try {
    fd = openSync(path, "a", opts.mode ?? 0o600);
  } catch (e) {
    throw lockFileError(path, e as NodeJS.ErrnoException);
  }
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
  // The lock is the file the path names *now*: `delete` unlinks lock files (holding them), and a
  // lock taken on the unlinked inode would exclude nobody who opens the path afresh.
  if (!namesSameFile(path, fd)) {
    libc.flock(fd, LOCK_UN);
    closeSync(fd);
    return null;
  }
  writeHolder(fd, opts.role ?? "client");
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

function namesSameFile(path: string, fd: number): boolean {
  try {
    return statSync(path).ino === fstatSync(fd).ino;
  } catch {
    return false;
  }
}

/** A lock file we cannot open, said with what to do about it (not a raw stack). */
function lockFileError(path: string, e: NodeJS.ErrnoException): CliError {
  const fix =
    e.code === "EACCES" || e.code === "EPERM"
      ? "run as the user who owns it, or set socketGroup in the config so your group may use it"
      : e.code === "EISDIR"
        ? "it is a directory; remove it"
        : "check the runtime directory";
  return new CliError(`cannot open lock file ${path}: ${e.code ?? e.message}; ${fix}`, 1);
}

/** Best effort: a waiter that cannot read the record simply waits, as it always did. */
function writeHolder(fd: number, role: LockRole): void {
  const record: LockHolder = lockHolderSchema().parse({ schema: LOCK_HOLDER_SCHEMA, pid: process.pid, identity: selfIdentity(), role });
  try {
    // The file is opened for appending: after the truncate, the write lands at offset 0.
    ftruncateSync(fd, 0);
    writeSync(fd, `${JSON.stringify(record)}\n`);
  } catch {
    // read-only or full filesystem: the lock itself still works
  }
}

/** The recorded holder, if the kernel confirms it holds a flock on this file right now. */
export function confirmedHolder(path: string): LockHolder | null {
  let inode: number;
  try {
    inode = statSync(path).ino;
  } catch {
    return null;
  }
  // Absent or torn (being rewritten, or written by an older daemonctl): no holder to name.
  const holder = readJsonOrNull(path, lockHolderSchema());
  return holder && flockHolders(inode).includes(holder.pid) ? holder : null;
}

/**
 * What to do about a lock held by a frozen process (confirmed as above): `wait` (after, say,
 * killing it: the kernel then releases the lock), `proceed` without the lock, or `refuse` with a
 * message for the user.
 */
export type FrozenHolderPolicy = (holder: LockHolder) => { action: "wait" } | { action: "proceed" } | { action: "refuse"; message: string };

export type LockResult =
  | { kind: "locked"; lock: Lock }
  | { kind: "proceed"; holder: LockHolder }
  | { kind: "refused"; message: string }
  | { kind: "timeout" };

/** How long a holder must stay stopped before it counts as frozen (not a passing job-control stop). */
const FROZEN_CONFIRM_MS = 100;
/** Inspecting the holder reads /proc/locks: not on every poll. */
const INSPECT_EVERY_MS = 50;

/** Waits for the lock up to `timeoutMs`, consulting `onFrozen` when its holder is frozen. */
export async function acquireLock(path: string, timeoutMs: number, opts: LockOptions = {}, onFrozen?: FrozenHolderPolicy): Promise<LockResult> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  let nextInspection = 0;
  let seenStopped: { pid: number; identity: string; at: number } | null = null;
  for (;;) {
    const lock = await tryLock(path, opts);
    if (lock) return { kind: "locked", lock };
    const now = Date.now();
    if (onFrozen && now >= nextInspection) {
      nextInspection = now + INSPECT_EVERY_MS;
      const holder = confirmedHolder(path);
      const stopped = holder !== null && isStopped(holder.pid, holder.identity);
      if (!stopped) seenStopped = null;
      else if (!seenStopped || seenStopped.pid !== holder.pid || seenStopped.identity !== holder.identity) seenStopped = { pid: holder.pid, identity: holder.identity, at: now };
      else if (now - seenStopped.at >= FROZEN_CONFIRM_MS) {
        seenStopped = null;
        const decision = onFrozen(holder);
        if (decision.action === "proceed") return { kind: "proceed", holder };
        if (decision.action === "refuse") return { kind: "refused", message: decision.message };
      }
    }
    if (now >= deadline) return { kind: "timeout" };
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - now))));
    delay = Math.min(delay * 2, 25);
  }
}
