/**
 * Facts about processes, read from `/proc` on Linux (`ps` elsewhere).
 *
 * `kill(pid, 0)` is not a liveness test: it succeeds on zombies and on whatever process reused
 * the pid. The start time in `/proc/PID/stat` plus the boot id identify one process for good.
 */
import { nodeFs, readText } from "./files.ts";

export interface ProcStat {
  pid: number;
  /** One-letter state: R, S, D, Z (zombie), T (stopped), X (dead)… */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** The kernel's PF_* flags word (field 9); 0 where unknown. */
  flags: number;
  /** Start time since boot in clock ticks (Linux) or a start timestamp string elsewhere. */
  startTime: string;
}

const isLinux = process.platform === "linux";
let cachedBootId: string | undefined;

/** The kernel's per-boot random id, so identities from before a reboot never match. */
export function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = nodeFs().readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      cachedBootId = isLinux ? "noboot" : darwinBootTime();
    }
  }
  return cachedBootId;
}

/** `bootId()` without node:fs, for the status fast path. */
export async function bootIdAsync(): Promise<string> {
  if (cachedBootId !== undefined) return cachedBootId;
  if (!isLinux) return bootId();
  const r = await readText("/proc/sys/kernel/random/boot_id");
  return (cachedBootId = r.ok ? r.text.trim() : "noboot");
}

/** Parses one `/proc/PID/stat` line. The comm field may itself contain spaces and parentheses. */
export function parseProcStat(pid: number, line: string): ProcStat | null {
  const close = line.lastIndexOf(")");
  if (close < 0) return null;
  const fields = line.slice(close + 2).split(" ");
  // fields[0] is field 3 (state); starttime is field 22, i.e. fields[19].
  const state = fields[0];
  const startTime = fields[19];
  if (!state || !startTime) return null;
  return { pid, state, ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]), flags: Number(fields[6]) || 0, startTime };
}

/** The stat of a process, or null if there is none (or we may not see it). */
export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (!isLinux) return psStat(pid);
  try {
    return parseProcStat(pid, nodeFs().readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

/** `readProcStat()` without node:fs, for the status fast path. */
export async function readProcStatAsync(pid: number): Promise<ProcStat | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (!isLinux) return psStat(pid);
  const r = await readText(`/proc/${pid}/stat`);
  return r.ok ? parseProcStat(pid, r.text) : null;
}

/** Every pid visible in /proc (Linux only; empty elsewhere). */
export function listPids(): number[] {
  if (!isLinux) return [];
  const out: number[] = [];
  for (const entry of nodeFs().readdirSync("/proc")) {
    const c = entry.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(entry));
  }
  return out;
}

/**
 * Direct children of this process, cheaply, from `/proc/self/task/TID/children` (children are
 * listed per thread; orphans reparented to a subreaper land on one of its threads). Returns null
 * where the kernel lacks CONFIG_PROC_CHILDREN, so callers can fall back to a full scan.
 */
export function listOwnChildren(): number[] | null {
  if (!isLinux) return null;
  try {
    const out: number[] = [];
    const fs = nodeFs();
    for (const tid of fs.readdirSync("/proc/self/task")) {
      const text = fs.readFileSync(`/proc/self/task/${tid}/children`, "latin1");
      for (const p of text.split(" ")) if (p) out.push(Number(p));
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * `ps`/`sysctl` for platforms without /proc. node:child_process is fetched only here, so the
 * Linux status path never pays for loading it.
 */
function execText(cmd: string, args: string[]): string {
  const cp = process.getBuiltinModule("node:child_process") as typeof import("node:child_process");
  return cp.execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

function psStat(pid: number): ProcStat | null {
  try {
    const out = execText("ps", ["-o", "stat=,ppid=,pgid=,lstart=", "-p", String(pid)]).trim();
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(.+)$/.exec(out);
    if (!m) return null;
    return { pid, state: m[1]!.charAt(0), ppid: Number(m[2]), pgrp: Number(m[3]), session: 0, flags: 0, startTime: m[4]!.trim() };
  } catch {
    return null;
  }
}

function darwinBootTime(): string {
  try {
    return execText("sysctl", ["-n", "kern.boottime"]).trim();
  } catch {
    return "noboot";
  }
}

/** The initial environment of a process (`/proc/PID/environ`), or null if unreadable. */
export function readEnviron(pid: number): string[] | null {
  return readNulList(pid, "environ");
}

/** The argv of a process, or null when it is gone or not ours to read. */
export function readCmdline(pid: number): string[] | null {
  return readNulList(pid, "cmdline");
}

function readNulList(pid: number, file: "environ" | "cmdline"): string[] | null {
  if (!isLinux) return null;
  try {
    return nodeFs().readFileSync(`/proc/${pid}/${file}`, "latin1").split("\0").filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * PF_FORKNOEXEC: the process was forked and has not exec'd yet. A runtime's spawn is
 * vfork/fork + exec, so between the two the new process is still a copy of its parent.
 */
export const PF_FORKNOEXEC = 0x40;

/** Where `/proc/PID/exe` points, or null. */
export function exePath(pid: number): string | null {
  if (!isLinux) return null;
  try {
    return nodeFs().readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/**
 * Socket inodes of listening Unix sockets whose bind-time path satisfies `matches`, from
 * /proc/net/unix (which shows the path given to bind(2), not where the socket was renamed to).
 */
export function unixListenerInodes(matches: (path: string) => boolean): Set<number> {
  const out = new Set<number>();
  if (!isLinux) return out;
  let text: string;
  try {
    text = nodeFs().readFileSync("/proc/net/unix", "latin1");
  } catch {
    return out;
  }
  // Num RefCount Protocol Flags Type St Inode Path — flag 0x10000 is __SO_ACCEPTCON (listening).
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && (parseInt(f[3]!, 16) & 0x10000) !== 0 && matches(f.slice(7).join(" "))) out.add(Number(f[6]));
  }
  return out;
}

/**
 * Pids holding a `flock` on the file with this inode, from /proc/locks (`N: FLOCK ADVISORY WRITE
 * PID MAJ:MIN:INODE 0 EOF`). Only the inode is compared: overlay filesystems may report another
 * device there than stat(2) does, and a pid must match as well.
 */
export function flockHolders(inode: number): number[] {
  if (!isLinux) return [];
  let text: string;
  try {
    text = nodeFs().readFileSync("/proc/locks", "latin1");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    // A blocked waiter's line has "->" after the number; we only take non-blocking locks.
    if (f[1] !== "FLOCK" || f.length < 6) continue;
    const ino = Number(f[5]!.split(":")[2]);
    if (ino === inode) out.push(Number(f[4]));
  }
  return out;
}

/** Does `pid` hold an open file descriptor for one of these socket inodes? */
export function holdsSocketInode(pid: number, inodes: Set<number>): boolean {
  if (!isLinux || inodes.size === 0) return false;
  const fs = nodeFs();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(Number(m[1]))) return true;
    } catch {
      // fd closed meanwhile
    }
  }
  return false;
}

/**
 * This process's soft limit on open files (`/proc/self/limits`), or null where unknown. Bun and
 * Deno raise the soft limit to the hard one at start-up, so this is what the process really has.
 */
export function openFilesLimit(): number | null {
  if (!isLinux) return null;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(nodeFs().readFileSync("/proc/self/limits", "latin1"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
