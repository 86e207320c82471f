/**
 * Control socket server (SPEC §8): newline-delimited JSON, several requests per connection,
 * answered in order.
 *
 * Limits keep one bad client from hurting the others: 1 MiB per line, 256 connections, 30 s idle,
 * and a cap on unread output for event subscribers that stop reading.
 */
import { createServer, type Server, type Socket } from "node:net";
import { requestSchema, METHODS, type Method, type Request } from "../schema/protocol.ts";
import type { DaemonEvent } from "../schema/event.ts";
import { LineSplitter, MAX_LINE_BYTES } from "./lines.ts";

/**
 * The umask is process-wide, so binds take turns: a supervisor claims all its daemons' sockets
 * at once, and interleaved set/restore pairs would leave the restrictive mask in place for every
 * file the daemons then create.
 */
let bindTurn: Promise<unknown> = Promise.resolve();

export const MAX_CONNECTIONS = 256;
export const IDLE_TIMEOUT_MS = 30_000;
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ClientConnection {
  /** Streams events to this connection until it closes, after replaying `backlog`. */
  subscribe(id: Request["id"], register: (push: (e: DaemonEvent) => void) => () => void, backlog?: DaemonEvent[]): void;
}

export type RequestHandler = (method: Method, params: Record<string, unknown>, conn: ClientConnection, id: Request["id"]) => Promise<unknown> | unknown;

export class ControlServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly handle: RequestHandler) {}

  /** Binds `path` with `mode` from the first instant (umask during bind, never chmod after). */
  listen(path: string, mode: number): Promise<void> {
    const turn = bindTurn.then(() => this.listenNow(path, mode));
    bindTurn = turn.catch(() => {});
    return turn;
  }

  private listenNow(path: string, mode: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      this.server = server;
      const previous = process.umask(~mode & 0o777);
      const restore = () => process.umask(previous);
      server.once("error", (e) => {
        restore();
        reject(e);
      });
      server.listen(path, () => {
        restore();
        server.removeAllListeners("error");
        server.on("error", () => {});
        resolve();
      });
    });
  }

  /** Stops accepting and drops every connection. Does not unlink the socket file. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= MAX_CONNECTIONS) {
      socket.end(`${JSON.stringify({ id: null, ok: false, error: { code: "too-many-connections", message: `limit of ${MAX_CONNECTIONS} connections reached` } })}\n`);
      setTimeout(() => socket.destroy(), 100).unref?.();
      return;
    }
    this.sockets.add(socket);
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const unsubscribers: Array<() => void> = [];
    let queue: Promise<void> = Promise.resolve();
    let closed = false;

    const send = (msg: unknown) => {
      if (closed) return;
      if (socket.writableLength > MAX_UNREAD_BYTES) {
        socket.destroy();
        return;
      }
      socket.write(`${JSON.stringify(msg)}\n`);
    };
    const conn: ClientConnection = {
      subscribe(id, register, backlog = []) {
        socket.setTimeout(0); // subscribers may stay silent for as long as they like
        // After the subscription's own answer, so a client sees "subscribed" first.
        setImmediate(() => {
          for (const event of backlog) send({ id, event });
        });
        unsubscribers.push(register((event) => send({ id, event })));
      },
    };
    const cleanup = () => {
      closed = true;
      this.sockets.delete(socket);
      for (const u of unsubscribers.splice(0)) u();
    };

    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on("close", cleanup);
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Uint8Array) => {
      const lines = splitter.push(chunk);
      for (const line of lines) queue = queue.then(() => this.answer(line, send, conn));
      if (splitter.overflowed) {
        queue = queue.then(() => {
          send({ id: null, ok: false, error: { code: "line-too-long", message: `request lines are limited to ${MAX_LINE_BYTES} bytes` } });
          socket.end();
          setTimeout(() => socket.destroy(), 100).unref?.();
        });
      }
    });
  }

  private async answer(line: string, send: (msg: unknown) => void, conn: ClientConnection): Promise<void> {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      send({ id: null, ok: false, error: { code: "bad-json", message: "request is not valid JSON" } });
      return;
    }
    const parsed = requestSchema().safeParse(raw);
    if (!parsed.success) {
      const id = raw && typeof raw === "object" && "id" in raw && (typeof raw.id === "number" || typeof raw.id === "string") ? raw.id : null;
      send({ id, ok: false, error: { code: "bad-request", message: 'expected {"id", "method", "params"?, "protocol": 1}' } });
      return;
    }
    const req = parsed.data;
    if (!(METHODS as readonly string[]).includes(req.method)) {
      send({ id: req.id, ok: false, error: { code: "unknown-method", message: `unknown method "${req.method}"; known: ${METHODS.join(", ")}` } });
      return;
    }
    try {
      const result = await this.handle(req.method as Method, req.params ?? {}, conn, req.id);
      send({ id: req.id, ok: true, result: result ?? null });
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError("internal", (e as Error).message);
      send({ id: req.id, ok: false, error: { code: err.code, message: err.message } });
    }
  }
}
