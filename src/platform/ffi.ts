/**
 * The few libc calls node: APIs do not offer: flock, prctl, waitpid, signal; and, loaded apart
 * for `supervise` only, what the signal trap needs (mmap, mprotect, pipe2, sigaction…).
 *
 * Loaded lazily on first use: `bun:ffi` in Bun (imported through a variable so Deno's checker
 * never resolves it), `Deno.dlopen` in Deno. All calls are synchronous and cheap.
 */
import { deno } from "./runtime.ts";

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_SET_PDEATHSIG = 1;
export const WNOHANG = 1;
const SIG_IGN = 1;
// waitid(2) on Linux: P_ALL, WEXITED, WNOWAIT; si_pid sits at byte 16 of siginfo_t (x86-64, arm64).
const P_ALL = 0;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
const SI_PID_OFFSET = 16;
/** prctl and the waitid layout above are Linux-only; elsewhere those symbols are not bound. */
const linux = process.platform === "linux";

interface Libc {
  flock(fd: number, op: number): number;
  prctl(option: number, arg: number): number;
  /** Returns [pid or -1 or 0, raw status]. */
  waitpid(pid: number, options: number): [number, number];
  ignoreSignal(signo: number): void;
  /** Pid of some zombie child, without reaping it; 0 if none, -1 if no children (Linux only). */
  peekZombie(): number;
}

const LIBC_CANDIDATES = [
  "libc.so.6",
  "libc.musl-x86_64.so.1",
  "libc.musl-aarch64.so.1",
  "libc.so",
  "/usr/lib/libSystem.B.dylib",
];

let libc: Libc | null | undefined;

/** The libc bindings, or null (with the reason in `libcError`) where FFI is unavailable. */
export async function loadLibc(): Promise<Libc | null> {
  if (libc !== undefined) return libc;
  try {
    libc = deno ? openDeno() : await openBun();
  } catch (e) {
    libcError = (e as Error).message;
    libc = null;
  }
  return libc;
}
export let libcError = "";

/**
 * A C type in a notation both runtimes' dlopen tables derive from: `buf` is an ArrayBufferView
 * passed by address (Bun `ptr`, Deno `buffer`), `ptr` a raw address (Bun `ptr`, Deno `pointer`).
 */
export type CType = "i32" | "u32" | "i64" | "u64" | "buf" | "ptr";
/** Symbol name → [argument types, result type]: one table, not one per runtime. */
export type CSignatures = Record<string, readonly [args: readonly CType[], result: CType]>;

/** `sigs` as bun:ffi's dlopen wants them. */
export function bunSignatures(sigs: CSignatures): Record<string, { args: string[]; returns: string }> {
  const bun = (t: CType) => (t === "buf" ? "ptr" : t);
  return Object.fromEntries(Object.entries(sigs).map(([name, [args, result]]) => [name, { args: args.map(bun), returns: bun(result) }]));
}

/** `sigs` as Deno.dlopen wants them. */
export function denoSignatures(sigs: CSignatures): Record<string, { parameters: string[]; result: string }> {
  const deno = (t: CType) => (t === "buf" ? "buffer" : t === "ptr" ? "pointer" : t);
  return Object.fromEntries(Object.entries(sigs).map(([name, [args, result]]) => [name, { parameters: args.map(deno), result: deno(result) }]));
}

/** The first libc of LIBC_CANDIDATES that `open` (a runtime's dlopen) accepts. */
export function firstOpenable<T>(open: (path: string) => T): T {
  let last: unknown;
  for (const path of LIBC_CANDIDATES) {
    try {
      return open(path);
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`cannot load libc for FFI: ${(last as Error)?.message ?? "no candidate"}`);
}

async function openBun(): Promise<Libc> {
  const specifier = "bun:ffi";
  const ffi = (await import(specifier)) as {
    dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): {
      symbols: Record<string, (...args: unknown[]) => number>;
    };
    ptr(view: ArrayBufferView): number;
  };
  const lib = firstOpenable((path) =>
    ffi.dlopen(path, {
      flock: { args: ["i32", "i32"], returns: "i32" },
      waitpid: { args: ["i32", "ptr", "i32"], returns: "i32" },
      signal: { args: ["i32", "u64"], returns: "u64" },
      ...(linux ? { prctl: { args: ["i32", "u64", "u64", "u64", "u64"], returns: "i32" }, waitid: { args: ["i32", "i32", "ptr", "i32"], returns: "i32" } } : {}),
    }),
  );
  const status = new Int32Array(1);
  const statusPtr = ffi.ptr(status);
  const info = new Int32Array(32);
  const infoPtr = ffi.ptr(info);
  const s = lib.symbols;
  return {
    flock: (fd, op) => s.flock!(fd, op),
    prctl: (option, arg) => (linux ? s.prctl!(option, arg, 0, 0, 0) : -1),
    waitpid: (pid, options) => {
      status[0] = 0;
      const r = s.waitpid!(pid, statusPtr, options);
      return [r, status[0]!];
    },
    ignoreSignal: (signo) => void s.signal!(signo, SIG_IGN),
    peekZombie: () => {
      if (!linux) return -1;
      info.fill(0);
      if (s.waitid!(P_ALL, 0, infoPtr, WEXITED | WNOHANG | WNOWAIT) !== 0) return -1;
      return info[SI_PID_OFFSET / 4]!;
    },
  };
}

function openDeno(): Libc {
  const lib = firstOpenable((path) =>
    deno!.dlopen(path, {
      flock: { parameters: ["i32", "i32"], result: "i32" },
      waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
      signal: { parameters: ["i32", "u64"], result: "u64" },
      ...(linux ? { prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" }, waitid: { parameters: ["i32", "i32", "buffer", "i32"], result: "i32" } } : {}),
    }),
  );
  const status = new Int32Array(1);
  const info = new Int32Array(32);
  const s = lib.symbols;
  return {
    flock: (fd, op) => s.flock!(fd, op),
    prctl: (option, arg) => (linux ? s.prctl!(option, BigInt(arg), 0n, 0n, 0n) : -1),
    waitpid: (pid, options) => {
      status[0] = 0;
      const r = s.waitpid!(pid, new Uint8Array(status.buffer), options);
      return [r, status[0]!];
    },
    ignoreSignal: (signo) => void s.signal!(signo, BigInt(SIG_IGN)),
    peekZombie: () => {
      if (!linux) return -1;
      info.fill(0);
      if (s.waitid!(P_ALL, 0, new Uint8Array(info.buffer), WEXITED | WNOHANG | WNOWAIT) !== 0) return -1;
      return info[SI_PID_OFFSET / 4]!;
    },
  };
}

/** libc calls of the signal trap (platform/signal-trap.ts). Addresses travel as bigint. */
export interface TrapLibc {
  /** An anonymous private read-write mapping; 0n on failure. */
  mapAnonymous(length: number): bigint;
  /** mprotect to read+execute; 0 on success. */
  protectExec(addr: bigint, length: number): number;
  copyTo(addr: bigint, data: Uint8Array): void;
  /** pipe2(O_CLOEXEC): [read, write], or null. */
  pipe(): [number, number] | null;
  /** Adds O_NONBLOCK to an fd; 0 on success. */
  setNonBlocking(fd: number): number;
  /** sigaction(2) with glibc's struct layout (152 bytes on x86-64 and aarch64); 0 on success. */
  sigaction(signo: number, act: Uint8Array | null, old: Uint8Array | null): number;
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const PROT_RW = 3;
const PROT_RX = 5;
const MAP_PRIVATE_ANONYMOUS = 0x22;

let trapLibc: TrapLibc | null | undefined;
export let trapLibcError = "";

/** The signal trap's libc bindings, or null (reason in `trapLibcError`); Linux only. */
export async function loadTrapLibc(): Promise<TrapLibc | null> {
  if (trapLibc !== undefined) return trapLibc;
  try {
    if (!linux) throw new Error("the signal trap is Linux-only");
    trapLibc = deno ? openTrapDeno() : await openTrapBun();
  } catch (e) {
    trapLibcError = (e as Error).message;
    trapLibc = null;
  }
  return trapLibc;
}

async function openTrapBun(): Promise<TrapLibc> {
  const specifier = "bun:ffi";
  const ffi = (await import(specifier)) as {
    dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: Record<string, (...args: unknown[]) => number> };
    ptr(view: ArrayBufferView): number;
  };
  const s = firstOpenable((path) =>
    ffi.dlopen(path, {
      mmap: { args: ["ptr", "u64", "i32", "i32", "i32", "i64"], returns: "ptr" },
      mprotect: { args: ["ptr", "u64", "i32"], returns: "i32" },
      memcpy: { args: ["ptr", "ptr", "u64"], returns: "ptr" },
      pipe2: { args: ["ptr", "i32"], returns: "i32" },
      fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
      sigaction: { args: ["i32", "ptr", "ptr"], returns: "i32" },
    }),
  ).symbols;
  const fds = new Int32Array(2);
  return {
    mapAnonymous: (length) => {
      const addr = s.mmap!(null, length, PROT_RW, MAP_PRIVATE_ANONYMOUS, -1, 0);
      // MAP_FAILED is (void*)-1, which no JS number holds exactly.
      return !addr || addr < 0 || addr > 2 ** 52 ? 0n : BigInt(addr);
    },
    protectExec: (addr, length) => s.mprotect!(Number(addr), length, PROT_RX),
    copyTo: (addr, data) => void s.memcpy!(Number(addr), ffi.ptr(data), data.length),
    pipe: () => (s.pipe2!(ffi.ptr(fds), O_CLOEXEC) === 0 ? [fds[0]!, fds[1]!] : null),
    setNonBlocking: (fd) => s.fcntl!(fd, F_SETFL, s.fcntl!(fd, F_GETFL, 0) | O_NONBLOCK),
    sigaction: (signo, act, old) => s.sigaction!(signo, act ? ffi.ptr(act) : null, old ? ffi.ptr(old) : null),
  };
}

function openTrapDeno(): TrapLibc {
  const D = deno as unknown as {
    dlopen(path: string, defs: Record<string, { parameters: string[]; result: string }>): { symbols: Record<string, (...args: unknown[]) => unknown> };
    UnsafePointer: { create(v: bigint): unknown; value(p: unknown): bigint | number };
  };
  const s = firstOpenable((path) =>
    D.dlopen(path, {
      mmap: { parameters: ["pointer", "u64", "i32", "i32", "i32", "i64"], result: "pointer" },
      mprotect: { parameters: ["pointer", "u64", "i32"], result: "i32" },
      memcpy: { parameters: ["pointer", "buffer", "u64"], result: "pointer" },
      pipe2: { parameters: ["buffer", "i32"], result: "i32" },
      fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
      sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    }),
  ).symbols;
  const fds = new Int32Array(2);
  const pointer = (addr: bigint) => D.UnsafePointer.create(addr);
  return {
    mapAnonymous: (length) => {
      const p = s.mmap!(null, BigInt(length), PROT_RW, MAP_PRIVATE_ANONYMOUS, -1, 0n);
      const addr = p === null ? 0n : BigInt(D.UnsafePointer.value(p));
      return addr === 0n || addr === 0xffffffffffffffffn ? 0n : addr;
    },
    protectExec: (addr, length) => s.mprotect!(pointer(addr), BigInt(length), PROT_RX) as number,
    copyTo: (addr, data) => void s.memcpy!(pointer(addr), data, BigInt(data.length)),
    pipe: () => (s.pipe2!(new Uint8Array(fds.buffer), O_CLOEXEC) === 0 ? [fds[0]!, fds[1]!] : null),
    setNonBlocking: (fd) => s.fcntl!(fd, F_SETFL, (s.fcntl!(fd, F_GETFL, 0) as number) | O_NONBLOCK) as number,
    sigaction: (signo, act, old) => s.sigaction!(signo, act, old) as number,
  };
}
