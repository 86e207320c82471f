/**
 * The signal trap: every signal an init must pass on reaches JavaScript, and none is lost
 * before JavaScript listens.
 *
 * Why not `process.on`: Bun keeps ILL, TRAP, ABRT, BUS, FPE, SEGV and SYS for its crash
 * handler (one `kill -ILL` and the init panics), cannot bind STKFLT and PWR, and Deno refuses
 * ILL, FPE and SEGV. And a runtime installs its handlers only once the program runs: a SIGTERM
 * that comes earlier is discarded by the kernel for PID 1 (SIG_DFL on init), so the child never
 * gets it and the init waits forever.
 *
 * Why not sigprocmask + signalfd: from JavaScript only the main thread's mask changes, and the
 * runtime's other threads would still take process-directed signals; re-executing ourselves
 * with the mask set would fix that, but children spawned by Bun 1.4 and Deno 2.9 inherit the
 * blocked mask (measured: SigBlk of the child equals ours), so they would be deaf to SIGTERM.
 *
 * So: a handler of a few dozen instructions (scripts/signal-trap/*.s, x86-64 and aarch64)
 * lives in a page we map executable, installed with sigaction(SA_SIGINFO). It tells apart
 * what another process sent (si_code <= 0 and si_pid not ours: written as one byte to a pipe)
 * from what is genuine — a fault (si_code > 0), our own abort/raise, the runtime's own
 * thread-directed signals (JavaScriptCore suspends threads for GC with SIGPWR) — which goes to
 * the previous handler exactly as before the trap, or for SIG_DFL restores the default so that
 * a real crash still crashes instead of looping. The pipe is the queue: signals wait there until
 * `listen`, and its read side wakes the event loop (epoll in Bun, the runtime's reactor in Deno)
 * with no polling: idle, it costs nothing.
 */
import { loadTrapLibc, trapLibcError, type TrapLibc } from "./ffi.ts";
import { TRAP_CODE, TRAP_DATA_OFFSET } from "./generated/signal-trap-code.ts";
import { deno } from "./runtime.ts";

/** glibc's struct sigaction: handler (8), sa_mask (128), sa_flags (4 + 4 padding), restorer (8). */
const SIGACTION_SIZE = 152;
const SA_FLAGS_OFFSET = 136;
const SA_SIGINFO = 4;
const SA_ONSTACK = 0x08000000;
const SA_RESTART = 0x10000000;
/** Data page: the pipe's write end at +0, then one 8-byte "previous handler" slot per signal. */
const TABLE_OFFSET = TRAP_DATA_OFFSET + 8;
const DATA_SIZE = 8 + 64 * 8 + 32;
const SIG_DFL = 0n;
const SIG_IGN = 1n;
/**
 * Signals whose default must come back when one is genuine and nobody handled it before: the
 * faulting instruction runs again and the kernel then kills us even as PID 1 (a forced signal).
 */
const FAULTS = new Set([4, 5, 6, 7, 8, 11, 31]);

export class SignalTrap {
  private readonly previous = new Map<number, Uint8Array>();
  private listening = false;

  private constructor(
    private readonly libc: TrapLibc,
    private readonly code: bigint,
    private readonly readFd: number,
    private handler: (signo: number) => void = () => {},
  ) {}

  /** Maps the handler and opens the pipe; a reason instead where that is not possible. */
  static async open(): Promise<SignalTrap | string> {
    const hex = TRAP_CODE[process.arch];
    if (!hex) return `no signal trap for ${process.platform}/${process.arch}`;
    const libc = await loadTrapLibc();
    if (!libc) return trapLibcError;
    const fds = libc.pipe();
    if (!fds) return "pipe2 failed";
    // A full pipe must drop a signal, never block a handler; the read side is non-blocking
    // because both runtimes' readers expect to be woken by readiness.
    if (libc.setNonBlocking(fds[1]) !== 0 || libc.setNonBlocking(fds[0]) !== 0) return "fcntl(O_NONBLOCK) failed";
    const base = libc.mapAnonymous(TRAP_DATA_OFFSET * 2);
    if (base === 0n) return "mmap failed";
    const image = new Uint8Array(TRAP_DATA_OFFSET + DATA_SIZE);
    image.set(Buffer.from(hex, "hex"), 0);
    new DataView(image.buffer).setInt32(TRAP_DATA_OFFSET, fds[1], true);
    libc.copyTo(base, image);
    // The code page turns read+execute before any handler can run (and on aarch64 the kernel
    // syncs the instruction cache when a page first becomes executable); the data page stays
    // writable for slots of signals added later.
    if (libc.protectExec(base, TRAP_DATA_OFFSET) !== 0) return "mprotect(PROT_EXEC) refused (W^X policy?)";
    return new SignalTrap(libc, base, fds[0]);
  }

  /** Routes these signal numbers through the trap. Returns those that could not be. */
  add(signos: number[]): number[] {
    const failed: number[] = [];
    const act = new Uint8Array(SIGACTION_SIZE);
    const view = new DataView(act.buffer);
    view.setBigUint64(0, this.code, true);
    view.setInt32(SA_FLAGS_OFFSET, SA_SIGINFO | SA_ONSTACK | SA_RESTART, true);
    for (const signo of signos) {
      if (this.previous.has(signo)) continue;
      const old = new Uint8Array(SIGACTION_SIZE);
      if (this.libc.sigaction(signo, null, old) !== 0) {
        failed.push(signo);
        continue;
      }
      // The slot must be right before the handler can run.
      const slot = new Uint8Array(8);
      new DataView(slot.buffer).setBigUint64(0, this.fallThrough(signo, old), true);
      this.libc.copyTo(this.code + BigInt(TABLE_OFFSET + signo * 8), slot);
      if (this.libc.sigaction(signo, act, null) !== 0) {
        failed.push(signo);
        continue;
      }
      this.previous.set(signo, old);
    }
    return failed;
  }

  /** Where a genuine signal goes: the previous handler, or SIG_DFL/SIG_IGN as the slot says. */
  private fallThrough(signo: number, old: Uint8Array): bigint {
    const handler = new DataView(old.buffer).getBigUint64(0, true);
    if (handler !== SIG_DFL) return handler;
    return FAULTS.has(signo) ? SIG_DFL : SIG_IGN;
  }

  /** Puts back what handled this signal before the trap. */
  release(signo: number): void {
    const old = this.previous.get(signo);
    if (!old) return;
    this.libc.sigaction(signo, old, null);
    this.previous.delete(signo);
  }

  /** Delivers every trapped signal, starting with those that arrived before this call. */
  listen(handler: (signo: number) => void): void {
    this.handler = handler;
    if (this.listening) return;
    this.listening = true;
    const deliver = (bytes: Uint8Array) => {
      for (const signo of bytes) this.handler(signo);
    };
    // Neither reader ends or fails on a pipe whose write end we hold; if one did, signals would
    // stop arriving, which no handler here could report any better than the runtime.
    (deno ? readWithSocket(this.readFd, deliver) : readWithBunFile(this.readFd, deliver)).catch(() => {});
  }
}

/**
 * Bun: `Bun.file(fd).stream()` polls a non-blocking pipe (or eventfd) through epoll (measured:
 * no extra thread, 0 CPU ticks idle). node:net's Socket({fd}) never delivers data from a pipe in
 * Bun 1.4.5, and fs.createReadStream blocks a pool thread in read(2). The notify socket's
 * eventfd is read the same way.
 */
export async function readWithBunFile(fd: number, deliver: (b: Uint8Array) => void): Promise<void> {
  const file = (globalThis as unknown as { Bun: { file(fd: number): { stream(): ReadableStream<Uint8Array> } } }).Bun.file(fd);
  for await (const chunk of file.stream()) deliver(chunk);
}

/** Deno: node:net's Socket({fd}) reads the non-blocking pipe; node:fs streams reject raw fds. */
async function readWithSocket(fd: number, deliver: (b: Uint8Array) => void): Promise<void> {
  const { Socket } = await import("node:net");
  const socket = new Socket({ fd, readable: true, writable: false });
  socket.on("data", (b: Buffer) => deliver(b));
  socket.on("error", () => {});
}
