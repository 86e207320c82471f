/**
 * The sd_notify receiving end: one SOCK_DGRAM Unix socket per daemon, with the sender's
 * kernel-checked credentials on every datagram (docs/lifecycle.md#notify-readiness-ready-notify).
 *
 * Neither runtime offers Unix datagram sockets, so this is FFI. Waking up without polling: Linux
 * kernel AIO `IOCB_CMD_POLL` on each socket, completing into an eventfd (`IOCB_FLAG_RESFD`) that
 * Bun's own reactor watches (`Bun.file(fd).stream()`, as for the signal trap's pipe; in Deno a
 * `nonblocking` FFI poll(2), see watchWithThread). io_uring would be simpler but Docker's default seccomp
 * profile refuses it; the AIO syscalls it allows. One AIO context and one eventfd serve every
 * socket of the process (`supervise` hosts many daemons). A poll is one-shot: on each wake-up
 * the completions are reaped, each ready socket drained with recvmsg(MSG_DONTWAIT) until EAGAIN,
 * and its poll submitted again.
 */
import { lstatSync, unlinkSync, chownSync, chmodSync } from "node:fs";
import { deno } from "./runtime.ts";
import { bunSignatures, denoSignatures, firstOpenable, type CSignatures } from "./ffi.ts";
import { readWithBunFile } from "./signal-trap.ts";

export interface NotifySender {
  pid: number;
  uid: number;
  gid: number;
}

export interface NotifySocket {
  readonly path: string;
  /** Each datagram's text and its sender (null when the kernel attached no credentials). */
  onMessage(cb: (text: string, from: NotifySender | null) => void): void;
  /** Stops listening, closes the socket and removes its path. */
  close(): void;
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PASSCRED = 16;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const IOCB_CMD_POLL = 5;
const IOCB_FLAG_RESFD = 1;
const POLLIN = 1;
const IOCB_SIZE = 64;
const IO_EVENT_SIZE = 32;
/**
 * Polls per AIO context. io_setup reserves its size from the kernel-wide `fs/aio-max-nr` (65536,
 * shared by every container and every libaio user on the host), so contexts stay small and are
 * added as sockets are: 32 notify daemons cost 32 slots, not 256.
 */
const CONTEXT_SIZE = 32;
/** Datagrams read per wake-up: a daemon flooding its socket must not keep the host from its other work. */
const DRAIN_BATCH = 64;
const BUF_SIZE = 8192;
const CONTROL_SIZE = 256;
const SUN_PATH_MAX = 108;

const SYSCALLS: Record<string, { setup: number; destroy: number; getevents: number; submit: number; cancel: number }> = {
  x64: { setup: 206, destroy: 207, getevents: 208, submit: 209, cancel: 210 },
  arm64: { setup: 0, destroy: 1, submit: 2, cancel: 3, getevents: 4 },
};

/** The libc calls, runtime-neutral: buffers in, numbers out; addresses as bigint. */
interface NotifyLibc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  recvmsg(fd: number, msg: Uint8Array, flags: number): number;
  eventfd(init: number, flags: number): number;
  close(fd: number): number;
  /** syscall(nr, a1..a6) with integer arguments (addresses from `address`). */
  syscall(nr: number, ...args: bigint[]): number;
  address(buf: Uint8Array): bigint;
  errno(): number;
  /** Deno only: resolves once `fd` is readable (poll(2) on a runtime thread), then drains it. */
  awaitReadable?(fd: number): Promise<void>;
}

/** One AIO context and how many sockets have a poll in it. */
interface AioContext {
  ctx: bigint;
  used: number;
}

/** Process-wide: the AIO contexts, the eventfd that wakes us, and the sockets by poll id. */
interface Reactor {
  libc: NotifyLibc;
  nr: (typeof SYSCALLS)[string];
  contexts: AioContext[];
  efd: number;
  events: Uint8Array;
  timeout: Uint8Array;
  sockets: Map<number, OpenSocket>;
}

/** A context with room for one more socket's poll, set up when every other one is full. */
function contextWithRoom(r: Reactor): AioContext {
  const free = r.contexts.find((c) => c.used < CONTEXT_SIZE);
  if (free) return free;
  const ctxBuf = new Uint8Array(8);
  if (r.libc.syscall(r.nr.setup, BigInt(CONTEXT_SIZE), r.libc.address(ctxBuf)) !== 0) {
    throw new Error(`io_setup failed (errno ${r.libc.errno()}; the kernel's fs/aio-max-nr may be exhausted)`);
  }
  const c = { ctx: new DataView(ctxBuf.buffer).getBigUint64(0, true), used: 0 };
  r.contexts.push(c);
  return c;
}

let reactor: Reactor | null = null;
let loadError: string | null | undefined;
let nextId = 1;

/** Loads FFI and sets up AIO once; null when notify sockets work here, else why not. */
export async function loadNotifySupport(): Promise<string | null> {
  if (loadError !== undefined) return loadError;
  try {
    reactor = await setUpReactor();
    loadError = null;
  } catch (e) {
    loadError = `notify sockets are unavailable: ${(e as Error).message}`;
  }
  return loadError;
}

/** Whether loadNotifySupport has run (successfully or not): opening is then synchronous. */
export function notifySupportLoaded(): boolean {
  return loadError !== undefined;
}

/**
 * Binds a notify socket at `path` (a stale socket there is removed first), mode 0600 owned by
 * `owner` (the uid allowed to send, null for ours). A path starting with `@` is an abstract
 * address (sd_notify's convention): no file, no mode, only the credentials check. Throws with the
 * reason when it cannot.
 */
export function openNotifySocket(path: string, owner: number | null): NotifySocket {
  if (loadError === undefined) throw new Error("notify support not loaded (call loadNotifySupport first)");
  if (!reactor) throw new Error(loadError ?? "notify sockets are unavailable");
  return new OpenSocket(reactor, path, owner);
}

class OpenSocket implements NotifySocket {
  private readonly id = nextId++;
  private readonly fd: number;
  private readonly iocb = new Uint8Array(IOCB_SIZE);
  private readonly iocbList = new Uint8Array(8);
  private readonly buf = new Uint8Array(BUF_SIZE);
  private readonly control = new Uint8Array(CONTROL_SIZE);
  private readonly iov = new Uint8Array(16);
  private readonly msg = new Uint8Array(56);
  private listener: (text: string, from: NotifySender | null) => void = () => {};
  private closed = false;
  private readonly aio: AioContext;

  constructor(
    private readonly r: Reactor,
    readonly path: string,
    owner: number | null,
  ) {
    const addr = socketAddress(path);
    const abstract = path.startsWith("@");
    if (!abstract) removeStaleSocket(path);
    const fd = r.libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket(AF_UNIX, SOCK_DGRAM) failed (errno ${r.libc.errno()})`);
    this.fd = fd;
    try {
      this.aio = contextWithRoom(r);
    } catch (e) {
      r.libc.close(fd);
      throw e;
    }
    this.aio.used++;
    try {
      this.bindPrivately(addr);
      if (r.libc.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, new Uint8Array(new Int32Array([1]).buffer)) !== 0) throw new Error(`SO_PASSCRED refused (errno ${r.libc.errno()})`);
      if (!abstract && owner !== null && owner !== process.getuid?.()) chownSync(path, owner, -1);
      if (!abstract) chmodSync(path, 0o600);
      this.prepareBuffers();
      r.sockets.set(this.id, this);
      this.submitPoll();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  onMessage(cb: (text: string, from: NotifySender | null) => void): void {
    this.listener = cb;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.r.sockets.delete(this.id)) {
      // A cancelled poll still completes into the ring; its id no longer maps to a socket.
      this.r.libc.syscall(this.r.nr.cancel, this.aio.ctx, this.r.libc.address(this.iocb), this.r.libc.address(this.r.events));
    }
    this.aio.used--;
    this.r.libc.close(this.fd);
    if (!this.path.startsWith("@")) removeStaleSocket(this.path);
  }

  /** The mode is right from the first instant: a 0777 & ~umask socket would let anyone send. */
  private bindPrivately(addr: Uint8Array): void {
    const old = process.umask(0o177);
    try {
      if (this.r.libc.bind(this.fd, addr, addr.length) !== 0) throw new Error(`cannot bind ${this.path} (errno ${this.r.libc.errno()})`);
    } finally {
      process.umask(old);
    }
  }

  private prepareBuffers(): void {
    const libc = this.r.libc;
    const iocb = new DataView(this.iocb.buffer);
    iocb.setBigUint64(0, BigInt(this.id), true); // aio_data: comes back in the io_event
    iocb.setUint16(16, IOCB_CMD_POLL, true); // aio_lio_opcode
    iocb.setUint32(20, this.fd, true); // aio_fildes
    iocb.setBigUint64(24, BigInt(POLLIN), true); // aio_buf: the poll events
    iocb.setUint32(56, IOCB_FLAG_RESFD, true); // aio_flags
    iocb.setUint32(60, this.r.efd, true); // aio_resfd
    new DataView(this.iocbList.buffer).setBigUint64(0, libc.address(this.iocb), true);
    const iov = new DataView(this.iov.buffer);
    iov.setBigUint64(0, libc.address(this.buf), true);
    iov.setBigUint64(8, BigInt(BUF_SIZE), true);
  }

  submitPoll(): void {
    if (this.closed) return;
    const n = this.r.libc.syscall(this.r.nr.submit, this.aio.ctx, 1n, this.r.libc.address(this.iocbList));
    if (n !== 1) throw new Error(`io_submit(IOCB_CMD_POLL) failed (errno ${this.r.libc.errno()})`);
  }

  /**
   * Reads the queued datagrams (the poll fired once for all of them), at most DRAIN_BATCH: what
   * is left makes the poll submitted next fire again at once, after the event loop's other work.
   */
  drain(): void {
    const libc = this.r.libc;
    const msg = new DataView(this.msg.buffer);
    for (let read = 0; !this.closed && read < DRAIN_BATCH; read++) {
      this.msg.fill(0);
      msg.setBigUint64(16, libc.address(this.iov), true); // msg_iov
      msg.setBigUint64(24, 1n, true); // msg_iovlen
      msg.setBigUint64(32, libc.address(this.control), true); // msg_control
      msg.setBigUint64(40, BigInt(CONTROL_SIZE), true); // msg_controllen
      const n = libc.recvmsg(this.fd, this.msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (n < 0) return;
      const controlLen = Number(msg.getBigUint64(40, true));
      const from = this.readControl(controlLen);
      const text = new TextDecoder().decode(this.buf.subarray(0, Math.min(n, BUF_SIZE)));
      try {
        this.listener(text, from);
      } catch {
        // a listener's bug must not stop the socket
      }
    }
  }

  /** SCM_CREDENTIALS → sender; descriptors someone passed (SCM_RIGHTS) are closed, not leaked. */
  private readControl(len: number): NotifySender | null {
    const view = new DataView(this.control.buffer);
    let from: NotifySender | null = null;
    for (let off = 0; off + 16 <= len; ) {
      const cmsgLen = Number(view.getBigUint64(off, true));
      if (cmsgLen < 16) break;
      const level = view.getInt32(off + 8, true);
      const type = view.getInt32(off + 12, true);
      if (level === SOL_SOCKET && type === SCM_CREDENTIALS && cmsgLen >= 28) {
        from = { pid: view.getInt32(off + 16, true), uid: view.getUint32(off + 20, true), gid: view.getUint32(off + 24, true) };
      } else if (level === SOL_SOCKET && type === SCM_RIGHTS) {
        for (let p = off + 16; p + 4 <= off + cmsgLen; p += 4) this.r.libc.close(view.getInt32(p, true));
      }
      off += (cmsgLen + 7) & ~7;
    }
    return from;
  }
}

/** sockaddr_un; for `@NAME` the abstract form: a leading NUL, and no terminating one. */
function socketAddress(path: string): Uint8Array {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length >= SUN_PATH_MAX) throw new Error(`notify socket path ${path} is longer than the ${SUN_PATH_MAX - 1}-byte limit`);
  const abstract = path.startsWith("@");
  const addr = new Uint8Array(2 + bytes.length + (abstract ? 0 : 1));
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(bytes, 2);
  if (abstract) addr[2] = 0;
  return addr;
}

/** Only a socket is removed: a regular file at that path is someone's, and bind then fails. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent
  }
}

async function setUpReactor(): Promise<Reactor> {
  if (process.platform !== "linux") throw new Error("they need Linux (kernel AIO poll)");
  const nr = SYSCALLS[process.arch];
  if (!nr) throw new Error(`no AIO syscall numbers for ${process.arch}`);
  const libc = deno ? openDenoLibc() : await openBunLibc();
  const efd = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) throw new Error(`eventfd failed (errno ${libc.errno()})`);
  const r: Reactor = { libc, nr, contexts: [], efd, events: new Uint8Array(IO_EVENT_SIZE * CONTEXT_SIZE), timeout: new Uint8Array(16), sockets: new Map() };
  const wake = () => reap(r);
  (libc.awaitReadable ? watchWithThread(efd, libc.awaitReadable, wake) : readWithBunFile(efd, wake)).catch(() => {});
  return r;
}

/** Takes every completed poll off the rings (timeout zero: never blocks) and serves its socket. */
function reap(r: Reactor): void {
  for (const c of r.contexts) reapContext(r, c.ctx);
}

function reapContext(r: Reactor, ctx: bigint): void {
  const view = new DataView(r.events.buffer);
  const max = r.events.length / IO_EVENT_SIZE;
  for (;;) {
    const n = r.libc.syscall(r.nr.getevents, ctx, 0n, BigInt(max), r.libc.address(r.events), r.libc.address(r.timeout));
    if (n <= 0) return;
    for (let i = 0; i < n; i++) {
      const sock = r.sockets.get(Number(view.getBigUint64(i * IO_EVENT_SIZE, true)));
      if (!sock) continue;
      sock.drain();
      try {
        sock.submitPoll();
      } catch {
        // The ring is full or the socket is going: its owner closes it; nothing to retry here.
      }
    }
    if (n < max) return;
  }
}

/**
 * Deno: node:net's Socket({fd}) never reports an eventfd readable (measured, Deno 2.9.6), so a
 * `nonblocking` FFI poll(2) waits on one of the runtime's blocking-pool threads instead: still
 * no polling, one parked thread.
 */
async function watchWithThread(fd: number, awaitReadable: (fd: number) => Promise<void>, wake: () => void): Promise<void> {
  for (;;) {
    await awaitReadable(fd);
    wake();
  }
}

/** The libc calls both runtimes bind (Deno adds the two its thread-parked wait needs). */
const LIBC_SIGNATURES: CSignatures = {
  socket: [["i32", "i32", "i32"], "i32"],
  bind: [["i32", "buf", "u32"], "i32"],
  setsockopt: [["i32", "i32", "i32", "buf", "u32"], "i32"],
  recvmsg: [["i32", "buf", "i32"], "i64"],
  eventfd: [["u32", "i32"], "i32"],
  close: [["i32"], "i32"],
  // syscall(2) is variadic: bind all six argument slots, or the kernel reads garbage in the last.
  syscall: [["i64", "i64", "i64", "i64", "i64", "i64", "i64"], "i64"],
  __errno_location: [[], "ptr"],
};

type Symbols = Record<string, (...args: unknown[]) => unknown>;

/** The NotifyLibc calls over either runtime's symbols; `pass` turns a buffer into what its `buf` argument takes. */
function notifyLibc(s: Symbols, pass: (buf: Uint8Array) => unknown): Pick<NotifyLibc, "socket" | "bind" | "setsockopt" | "recvmsg" | "eventfd" | "close" | "syscall"> {
  return {
    socket: (d, t, p) => Number(s.socket!(d, t, p)),
    bind: (fd, addr, len) => Number(s.bind!(fd, pass(addr), len)),
    setsockopt: (fd, level, name, value) => Number(s.setsockopt!(fd, level, name, pass(value), value.length)),
    recvmsg: (fd, msg, flags) => Number(s.recvmsg!(fd, pass(msg), flags)),
    eventfd: (init, flags) => Number(s.eventfd!(init, flags)),
    close: (fd) => Number(s.close!(fd)),
    syscall: (nr, ...args) => {
      const a = [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6);
      return Number(s.syscall!(BigInt(nr), ...a));
    },
  };
}

async function openBunLibc(): Promise<NotifyLibc> {
  const specifier = "bun:ffi";
  const ffi = (await import(specifier)) as {
    dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: Symbols };
    ptr(view: ArrayBufferView): number;
    read: { i32(p: number, off?: number): number };
  };
  const s = firstOpenable((path) => ffi.dlopen(path, bunSignatures(LIBC_SIGNATURES))).symbols;
  return {
    ...notifyLibc(s, (buf) => ffi.ptr(buf)),
    address: (buf) => BigInt(ffi.ptr(buf)),
    errno: () => ffi.read.i32(Number(s.__errno_location!())),
  };
}

function openDenoLibc(): NotifyLibc {
  const D = deno as unknown as {
    dlopen(path: string, defs: Record<string, { parameters: string[]; result: string; nonblocking?: boolean }>): { symbols: Symbols };
    UnsafePointer: { of(buf: Uint8Array): unknown; value(p: unknown): bigint | number };
    UnsafePointerView: new (p: unknown) => { getInt32(off?: number): number };
  };
  const s = firstOpenable((path) =>
    D.dlopen(path, {
      ...denoSignatures(LIBC_SIGNATURES),
      read: { parameters: ["i32", "buffer", "u64"], result: "i64" },
      poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
    }),
  ).symbols;
  const pollfd = new Uint8Array(8);
  const counter = new Uint8Array(8);
  return {
    ...notifyLibc(s, (buf) => buf),
    address: (buf) => BigInt(D.UnsafePointer.value(D.UnsafePointer.of(buf))),
    errno: () => new D.UnsafePointerView(s.__errno_location!()).getInt32(),
    awaitReadable: async (fd) => {
      const v = new DataView(pollfd.buffer);
      v.setInt32(0, fd, true);
      v.setInt16(4, POLLIN, true);
      v.setInt16(6, 0, true);
      await (s.poll!(pollfd, 1n, -1) as Promise<number>);
      s.read!(fd, counter, 8n); // resets the eventfd counter (EAGAIN if a spurious wake)
    },
  };
}
