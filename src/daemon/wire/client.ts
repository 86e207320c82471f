/**
 * Control protocol client (docs/protocol.md): newline-delimited JSON requests over the daemon's
 * socket.
 *
 * Kept free of heavy imports: `status --json` runs through here on every health check.
 */
import { connectUnix, type ConnectError, type UnixConnection } from "../../platform/unix-client.ts";
import { PROTOCOL_VERSION, type Method } from "../../schema/constants.ts";
import { INVALID, parseEventMessage, parseResponse } from "../../schema/generated/validators.ts";
import type { DaemonEvent } from "../../schema/event.ts";
import { LineSplitter } from "./lines.ts";

export type RequestOutcome =
  | { kind: "ok"; result: unknown }
  | { kind: "error"; code: string; message: string }
  | { kind: "timeout" }
  | { kind: "closed" };

interface Pending {
  resolve(o: RequestOutcome): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new LineSplitter();
  private closed = false;
  /** A host's last word about the whole connection (evicted, at its limit): not a host gone. */
  private farewell: RequestOutcome | null = null;
  /** Called for every event pushed on an `events` subscription. */
  onEvent: ((event: DaemonEvent) => void) | null = null;
  onClose: (() => void) | null = null;

  /** An `events` subscription is open: it keeps the process alive while it waits for events. */
  private following = false;

  private constructor(private readonly conn: UnixConnection) {
    conn.onData = (chunk) => this.receive(chunk);
    conn.onClose = () => this.handleClose();
    this.updateKeepAlive();
  }

  /**
   * An idle connection does not keep the process alive: a program that forgot to close one
   * would otherwise wait for the host's 10 s idle timeout before it could exit. A request in
   * flight, or a subscription, does.
   */
  private updateKeepAlive(): void {
    if (!this.closed) this.conn.keepAlive(this.following || this.pending.size > 0);
  }

  static async open(socketPath: string, timeoutMs: number): Promise<ControlClient | ConnectError> {
    const conn = await connectUnix(socketPath, timeoutMs);
    return "code" in conn ? conn : new ControlClient(conn);
  }

  request(method: Method, params: Record<string, unknown> | undefined, timeoutMs: number): Promise<RequestOutcome> {
    if (this.closed) return Promise.resolve(this.farewell ?? { kind: "closed" });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.updateKeepAlive();
        resolve({ kind: "timeout" });
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      if (method === "events" && params?.follow !== false) this.following = true;
      this.updateKeepAlive();
      const req = params === undefined ? { id, method, protocol: PROTOCOL_VERSION } : { id, method, params, protocol: PROTOCOL_VERSION };
      this.conn.write(`${JSON.stringify(req)}\n`);
    });
  }

  close(): void {
    if (this.closed) return;
    this.conn.close();
    this.handleClose();
  }

  private receive(chunk: Uint8Array): void {
    for (const line of this.splitter.push(chunk)) this.handleLine(line);
    if (this.splitter.overflowed) this.close();
  }

  private handleLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return;
    }
    if (raw && typeof raw === "object" && "event" in raw) {
      const ev = parseEventMessage(raw);
      if (ev !== INVALID) this.onEvent?.(ev.event);
      return;
    }
    const res = parseResponse(raw);
    if (res === INVALID) return;
    if (res.id === null && !res.ok) {
      // About the connection, not one request (the host evicted us, or is at its limit): every
      // request on it gets that answer, now and after the close, so callers know a live host spoke.
      this.farewell = { kind: "error", ...res.error };
      this.failPending(this.farewell);
      return;
    }
    if (typeof res.id !== "number") return;
    const p = this.pending.get(res.id);
    if (!p) return;
    this.pending.delete(res.id);
    clearTimeout(p.timer);
    this.updateKeepAlive();
    p.resolve(res.ok ? { kind: "ok", result: res.result } : { kind: "error", ...res.error });
  }

  private handleClose(): void {
    if (this.closed && this.pending.size === 0) return;
    this.closed = true;
    this.failPending(this.farewell ?? { kind: "closed" });
    this.onClose?.();
    this.onClose = null;
  }

  private failPending(outcome: RequestOutcome): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve(outcome);
    }
    this.pending.clear();
  }
}

/** One request on a fresh connection. */
export async function requestOnce(
  socketPath: string,
  method: Method,
  params: Record<string, unknown> | undefined,
  timeoutMs: number,
): Promise<RequestOutcome | ConnectError> {
  const started = Date.now();
  const client = await ControlClient.open(socketPath, timeoutMs);
  if (!(client instanceof ControlClient)) return client;
  try {
    return await client.request(method, params, Math.max(1, timeoutMs - (Date.now() - started)));
  } finally {
    client.close();
  }
}
