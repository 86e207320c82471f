/**
 * Control socket server (docs/protocol.md): newline-delimited JSON, several requests per connection,
 * answered in order.
 *
 * No client can keep a host from answering the others (docs/protocol.md#connections):
 * - a request line is at most 1 MiB;
 * - a connection is read only as fast as it reads its answers (backpressure), and answers a few
 *   requests at a time, taking turns with every other connection;
 * - at the connection limit the least useful connection (idle, then not reading, then an idle
 *   event follower) is evicted so the newcomer is served: a probe always gets through;
 * - idle connections close after 10 s; subscribers that stop reading are cut off at 4 MiB.
 */
import { createServer, type Server, type Socket } from "node:net";
import { requestSchema, METHODS, type Method, type Request } from "../../schema/protocol.ts";
import type { DaemonEvent } from "../../schema/event.ts";
import { openFilesLimit } from "../../platform/proc.ts";
import { LineReader, MAX_LINE_BYTES } from "./lines.ts";

/**
 * The umask is process-wide, so binds take turns: a supervisor claims all its daemons' sockets
 * at once, and interleaved set/restore pairs would leave the restrictive mask in place for every
 * file the daemons then create.
 */
let bindTurn: Promise<unknown> = Promise.resolve();

/** Connections per socket. */
export const MAX_CONNECTIONS = 256;
/** A connection with nothing in flight that is not following events closes after this long. */
export const IDLE_TIMEOUT_MS = 10_000;
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;
/** Input a busy connection may have waiting before we stop reading it. */
const READ_AHEAD_BYTES = 64 * 1024;
/** Requests one connection has answered in a row before the others get their turn. */
const REQUESTS_PER_TURN = 16;

/**
 * Every connection of this process, over all its sockets (a supervisor serves many). Together
 * they hold at most half the open-files limit, leaving the rest to the daemons' pipes and logs,
 * and at most 1024: a client flooding requests costs up to ~0.5 MiB of buffers while throttled.
 */
const everyConnection = new Set<Connection>();
const MAX_PROCESS_CONNECTIONS = 1024;
let processLimit: number | null = null;
function processConnectionLimit(): number {
  return (processLimit ??= Math.max(32, Math.min(MAX_PROCESS_CONNECTIONS, Math.floor((openFilesLimit() ?? 1024) / 2))));
}

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

function errorLine(code: string, message: string): string {
  return `${JSON.stringify({ id: null, ok: false, error: { code, message } })}\n`;
}

/** Ends a connection after a last line, and makes sure it is gone soon even if the peer lingers. */
function endWith(socket: Socket, line: string | null): void {
  if (line !== null) socket.end(line);
  else socket.destroy();
  setTimeout(() => socket.destroy(), 100).unref?.();
}

/** Eviction order at the limit: lower goes first; NEVER is a connection busy answering. */
const EVICT = { idle: 0, notReading: 1, idleFollower: 2, never: 3 } as const;

/** One client connection: its input, its turn at being answered, its flow control. */
class Connection implements ClientConnection {
  /** When the client last did something: sent bytes or read what we sent. */
  lastActive = Date.now();
  private following = false;
  /** Answering its requests (one in flight, or waiting for its next turn). */
  private answering = false;
  private paused = false;
  private closed = false;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** The answers of the current turn, written at once: one write, not one per request. */
  private outbox: string[] | null = null;
  private readonly reader = new LineReader(MAX_LINE_BYTES);
  private readonly unsubscribers: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly answer: (line: string, conn: Connection) => Promise<void>,
    private readonly onGone: (conn: Connection) => void,
  ) {
    socket.on("data", (chunk: Uint8Array) => this.receive(chunk));
    socket.on("drain", () => {
      this.lastActive = Date.now();
      this.pump();
      this.flow();
    });
    socket.on("close", () => this.gone());
    socket.on("error", () => socket.destroy());
    this.armIdleTimer();
  }

  /** The client leaves what we wrote unread: answer nothing more until it catches up. */
  private get stalled(): boolean {
    return this.socket.writableNeedDrain;
  }

  get evictionRank(): number {
    if (this.stalled) return EVICT.notReading;
    if (this.answering) return EVICT.never;
    return this.following ? EVICT.idleFollower : EVICT.idle;
  }

  send(msg: unknown): void {
    if (this.closed) return;
    if (this.socket.writableLength > MAX_UNREAD_BYTES) {
      this.socket.destroy();
      return;
    }
    const line = `${JSON.stringify(msg)}\n`;
    if (this.outbox) this.outbox.push(line);
    else this.socket.write(line);
  }

  subscribe(id: Request["id"], register: (push: (e: DaemonEvent) => void) => () => void, backlog: DaemonEvent[] = []): void {
    // One per connection: each would fan every event out again, and cost memory per request.
    if (this.following) throw new ProtocolError("already-subscribed", "this connection already follows events; open another connection for another subscription");
    this.following = true; // subscribers may stay silent for as long as they like
    this.clearIdleTimer();
    // The backlog goes after the subscription's own answer (a client sees "subscribed" first),
    // and events that happen meanwhile wait behind it, so a follower sees them in order.
    let live: DaemonEvent[] | null = [];
    setImmediate(() => {
      for (const event of [...backlog, ...live!]) this.send({ id, event });
      live = null;
    });
    this.unsubscribers.push(register((event) => (live ? live.push(event) : this.send({ id, event }))));
  }

  /** Makes room for a newcomer: told why, if it still reads. */
  evict(): void {
    const line = this.stalled ? null : errorLine("evicted", "closed to make room for a new connection (the limit was reached); reconnect if needed");
    this.gone();
    endWith(this.socket, line);
  }

  destroy(): void {
    this.gone();
    this.socket.destroy();
  }

  private receive(chunk: Uint8Array): void {
    this.lastActive = Date.now();
    this.reader.feed(chunk);
    this.pump();
    this.flow();
  }

  /** Answers the complete requests received, in order, until none is left or the client stalls. */
  private pump(): void {
    if (this.answering || this.closed) return;
    this.answering = true;
    this.clearIdleTimer();
    void this.answerQueued().finally(() => {
      this.answering = false;
      this.flow();
      this.armIdleTimer();
    });
  }

  private async answerQueued(): Promise<void> {
    while (!this.closed && !this.stalled) {
      const more = await this.answerTurn();
      if (!more) return;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Up to REQUESTS_PER_TURN answers; false once no complete request is left. */
  private async answerTurn(): Promise<boolean> {
    this.outbox = [];
    try {
      for (let i = 0; i < REQUESTS_PER_TURN; i++) {
        const line = this.reader.next();
        if (line === null) {
          if (this.reader.overflowed) this.refuseLongLine();
          return false;
        }
        await this.answer(line, this);
        if (this.closed) return false;
      }
      return true;
    } finally {
      const out = this.outbox;
      this.outbox = null;
      if (out?.length && !this.closed) this.socket.write(out.join(""));
    }
  }

  /**
   * Reads only while we keep up: stop while the client leaves answers unread or requests pile
   * up unanswered. Paused, the runtime stops reading the socket, the kernel buffer fills, and
   * the client's own writes block: its flood stays in its memory, not ours.
   */
  private flow(): void {
    if (this.closed) return;
    const hold = this.stalled || (this.answering && this.reader.buffered > READ_AHEAD_BYTES);
    if (hold === this.paused) return;
    this.paused = hold;
    if (hold) this.socket.pause();
    else this.socket.resume();
  }

  /** The answers so far, then the refusal, then the end. */
  private refuseLongLine(): void {
    const earlier = this.outbox?.join("") ?? "";
    this.outbox = null;
    this.gone();
    endWith(this.socket, earlier + errorLine("line-too-long", `request lines are limited to ${MAX_LINE_BYTES} bytes`));
  }

  /** Idle: nothing to answer, or a client that does not read its answers, and not following. */
  private armIdleTimer(): void {
    this.clearIdleTimer();
    if (this.closed || this.following || (this.answering && !this.stalled)) return;
    this.idleTimer = setTimeout(() => this.destroy(), IDLE_TIMEOUT_MS);
    (this.idleTimer as { unref?: () => void }).unref?.();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearIdleTimer();
    for (const u of this.unsubscribers.splice(0)) u();
    this.onGone(this);
  }
}

/** The connection to evict at the limit, or null if every one is busy answering. */
function leastUseful(pool: Iterable<Connection>): Connection | null {
  let victim: Connection | null = null;
  let rank: number = EVICT.never;
  for (const c of pool) {
    const r = c.evictionRank;
    if (r < rank || (r === rank && victim && c.lastActive < victim.lastActive)) {
      victim = c;
      rank = r;
    }
  }
  return rank < EVICT.never ? victim : null;
}

export class ControlServer {
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();

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
    for (const c of [...this.connections]) c.destroy();
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (!this.makeRoom()) {
      endWith(socket, errorLine("too-many-connections", `every one of the ${this.connections.size} connections is busy; try again`));
      return;
    }
    const conn = new Connection(
      socket,
      (line, c) => this.answer(line, c),
      (c) => {
        this.connections.delete(c);
        everyConnection.delete(c);
      },
    );
    this.connections.add(conn);
    everyConnection.add(conn);
  }

  /** Under both limits, evicting if need be. False when every connection is busy answering. */
  private makeRoom(): boolean {
    const pool = this.connections.size >= MAX_CONNECTIONS ? this.connections : everyConnection.size >= processConnectionLimit() ? everyConnection : null;
    if (!pool) return true;
    const victim = leastUseful(pool);
    victim?.evict();
    return victim !== null;
  }

  private async answer(line: string, conn: Connection): Promise<void> {
    const send = (msg: unknown) => conn.send(msg);
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
