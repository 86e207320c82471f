/**
 * A minimal Unix stream socket client: connect, write strings, receive raw chunks.
 *
 * Uses the runtime's native socket (`Bun.connect`, `Deno.connect`) because `node:net` alone adds
 * ~6 ms to every short-lived command in a compiled Bun binary (bench/README.md), and
 * `status --json` has a budget of twice a hello world.
 */
import { bun, deno } from "./runtime.ts";
import { formatDuration } from "../schema/units.ts";

export type ConnectError = { code: "ENOENT" | "ECONNREFUSED" | "EACCES" | "ETIMEDOUT" | "EOTHER"; message: string };

export interface UnixConnection {
  write(data: string): void;
  /** Ends the connection; safe to call twice. */
  close(): void;
  /** Whether this connection alone keeps the process alive (the runtime's ref/unref). */
  keepAlive(on: boolean): void;
  onData: ((chunk: Uint8Array) => void) | null;
  onClose: (() => void) | null;
}

export async function connectUnix(path: string, timeoutMs: number): Promise<UnixConnection | ConnectError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<ConnectError>((resolve) => {
    timer = setTimeout(() => resolve({ code: "ETIMEDOUT", message: `connect timed out after ${formatDuration(timeoutMs)}` }), timeoutMs);
  });
  try {
    const attempt = deno ? connectDeno(path) : bun ? connectBun(path) : connectNode(path);
    return await Promise.race([attempt, timeout]);
  } catch (e) {
    return classify(e);
  } finally {
    clearTimeout(timer);
  }
}

function classify(e: unknown): ConnectError {
  const err = e as { code?: string; name?: string; message?: string };
  const text = `${err.code ?? ""} ${err.name ?? ""} ${err.message ?? ""}`;
  if (/ENOENT|NotFound|No such file/i.test(text)) return { code: "ENOENT", message: err.message ?? "no socket" };
  if (/ECONNREFUSED|ConnectionRefused|refused/i.test(text)) return { code: "ECONNREFUSED", message: err.message ?? "refused" };
  if (/EACCES|EPERM|PermissionDenied|denied/i.test(text)) return { code: "EACCES", message: err.message ?? "permission denied" };
  return { code: "EOTHER", message: err.message ?? String(e) };
}

async function connectBun(path: string): Promise<UnixConnection> {
  type BunSocket = { write(d: Uint8Array): number; end(): void; ref(): void; unref(): void };
  const encoder = new TextEncoder();
  // Bun's socket write may accept only part of the data; the rest waits for `drain`.
  const outbox: Uint8Array[] = [];
  let sock: BunSocket | undefined;
  let closed = false;
  const flush = () => {
    while (sock && outbox.length) {
      const bytes = outbox[0]!;
      const n = sock.write(bytes);
      if (n >= bytes.length) outbox.shift();
      else {
        outbox[0] = bytes.subarray(Math.max(n, 0));
        break;
      }
    }
  };
  const conn: UnixConnection = {
    onData: null,
    onClose: null,
    write(data) {
      if (closed) return;
      outbox.push(encoder.encode(data));
      flush();
    },
    close() {
      if (closed) return;
      closed = true;
      sock?.end();
    },
    keepAlive(on) {
      if (on) sock?.ref();
      else sock?.unref();
    },
  };
  sock = (await bun!.connect({
    unix: path,
    socket: {
      data(_s: unknown, chunk: Uint8Array) {
        conn.onData?.(chunk);
      },
      drain: flush,
      close() {
        closed = true;
        conn.onClose?.();
      },
      error() {
        closed = true;
      },
    },
  })) as BunSocket;
  flush();
  return conn;
}

async function connectDeno(path: string): Promise<UnixConnection> {
  const raw = await deno!.connect({ transport: "unix", path });
  const encoder = new TextEncoder();
  let closed = false;
  let writing: Promise<unknown> = Promise.resolve();
  const conn: UnixConnection = {
    onData: null,
    onClose: null,
    write(data) {
      if (closed) return;
      const bytes = encoder.encode(data);
      writing = writing.then(async () => {
        let off = 0;
        while (off < bytes.length && !closed) off += await raw.write(bytes.subarray(off));
      }).catch(() => {});
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        raw.close();
      } catch {
        // already closed by the peer
      }
    },
    keepAlive(on) {
      if (on) raw.ref();
      else raw.unref();
    },
  };
  (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await raw.read(buf);
        if (n === null) break;
        conn.onData?.(buf.slice(0, n));
      }
    } catch {
      // reset or closed locally
    }
    if (!closed) conn.close();
    conn.onClose?.();
  })();
  return conn;
}

async function connectNode(path: string): Promise<UnixConnection> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    const conn: UnixConnection = {
      onData: null,
      onClose: null,
      write: (d) => void s.write(d),
      close: () => void s.destroy(),
      keepAlive: (on) => void (on ? s.ref() : s.unref()),
    };
    s.once("connect", () => resolve(conn));
    s.once("error", reject);
    s.on("data", (c: Uint8Array) => conn.onData?.(c));
    s.on("close", () => conn.onClose?.());
  });
}
