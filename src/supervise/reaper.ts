/**
 * Zombie reaping for PID 1 and child subreapers (docs/containers.md#pid-1-duties).
 *
 * Orphans re-parent to us and, when they exit, stay zombies until someone waits for them.
 * Neither Bun nor Deno does, and `waitpid(-1)` would steal the exit status of children the
 * runtime itself waits for (docs/platform-notes.md#children-and-zombies). So: list our children,
 * skip every pid we spawned (platform/spawn.ts), and `waitpid(pid, WNOHANG)` only the zombies
 * among the rest.
 *
 * Triggered by SIGCHLD only, plus one check at start for zombies that came before we listened.
 * No timer: idle, an init must not wake up. A coalesced SIGCHLD loses nothing, because each check
 * runs until no reapable zombie is left, and a child that exits after the kernel dequeued the
 * last SIGCHLD raises a new one, whose handler runs after that exit (Bun queues every delivery
 * for JavaScript, up to 8,191 at once; Deno's signal stream coalesces but always fires after the
 * last one). Each check takes the cheap path: `waitid(P_ALL, WNOHANG|WNOWAIT)` peeks at whether
 * any child is a zombie without reaping it, and a zombie that is not ours is reaped at once — two
 * syscalls per orphan, no /proc reads (10,000 orphans: about half the CPU of a scan per SIGCHLD).
 * Only when the zombie it reports is one of ours (the runtime will reap it, and waitid would keep
 * reporting it) does the check fall back to a scan, which sees every other zombie at that moment.
 */
import { loadLibc, PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, WNOHANG } from "../platform/ffi.ts";
import { listOwnChildren, listPids, readProcStat } from "../platform/proc.ts";
import { isManagedPid } from "../platform/spawn.ts";
import { signalNumber, type SignalName } from "../schema/units.ts";
import type { Logger } from "../logger.ts";

export interface InitDuties {
  /** tini -s / TINI_SUBREAPER: not becoming a child subreaper is an error. */
  requireSubreaper?: boolean;
  /** tini -p: the signal we get when our parent dies, handled as if sent. */
  parentDeathSignal?: SignalName | null;
}

/**
 * What both modes of `supervise` take on first, as an init: reaping (as a child subreaper when
 * not PID 1), and with tini -p a signal when our parent dies. False, said in the log, when one
 * cannot be had and the options make that an error.
 */
export async function takeInitDuties(reaper: Reaper, o: InitDuties, log: Logger): Promise<boolean> {
  const note = await reaper.start();
  if (note && o.requireSubreaper) {
    log.error(note);
    return false;
  }
  if (note) log.warn(note);
  if (o.parentDeathSignal && !(await setParentDeathSignal(o.parentDeathSignal))) {
    log.error("cannot set the parent death signal (prctl PR_SET_PDEATHSIG)");
    return false;
  }
  return true;
}

async function setParentDeathSignal(sig: SignalName): Promise<boolean> {
  const libc = await loadLibc();
  return libc !== null && libc.prctl(PR_SET_PDEATHSIG, signalNumber(sig)) === 0;
}

export class Reaper {
  private libc: Awaited<ReturnType<typeof loadLibc>> = null;
  private readonly onChild = () => this.check();

  /** `onReap` hears of every orphan reaped (tini -w). */
  constructor(private readonly onReap?: (pid: number) => void) {}

  /**
   * Starts reaping. When we are not PID 1, becomes a child subreaper first, so orphans of our
   * daemons come to us rather than to the real init. Returns a note when reaping is impossible.
   */
  async start(): Promise<string | null> {
    this.libc = await loadLibc();
    if (!this.libc) return "FFI to libc is unavailable: orphans cannot be reaped";
    let note: string | null = null;
    if (process.pid !== 1 && process.platform === "linux" && this.libc.prctl(PR_SET_CHILD_SUBREAPER, 1) !== 0) {
      note = "could not become a child subreaper (prctl failed): orphans will go to the real init";
    }
    process.on("SIGCHLD", this.onChild);
    this.check();
    return note;
  }

  stop(): void {
    process.off("SIGCHLD", this.onChild);
  }

  /** The cheap path: peek, reap what is not ours, scan only if the peek is blocked. */
  check(): number {
    const libc = this.libc;
    if (!libc || process.platform !== "linux") return this.sweep();
    let n = 0;
    for (;;) {
      const pid = libc.peekZombie();
      if (pid <= 0) return n;
      if (isManagedPid(pid)) return n + this.sweep();
      const [r] = libc.waitpid(pid, WNOHANG);
      if (r !== pid) return n + this.sweep();
      this.onReap?.(pid);
      n++;
    }
  }

  /** Collects every zombie child that is not ours to wait for. Returns how many. */
  sweep(): number {
    const libc = this.libc;
    if (!libc) return 0;
    const self = process.pid;
    const children = listOwnChildren() ?? listPids().filter((p) => readProcStat(p)?.ppid === self);
    let n = 0;
    for (const pid of children) {
      if (isManagedPid(pid)) continue;
      const st = readProcStat(pid);
      if (!st || st.state !== "Z" || st.ppid !== self) continue;
      const [r] = libc.waitpid(pid, WNOHANG);
      if (r !== pid) continue;
      this.onReap?.(pid);
      n++;
    }
    return n;
  }
}
