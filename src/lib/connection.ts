/**
 * `connect(name)`: a typed client of a daemon's control socket (docs/protocol.md). The host is
 * verified first (it answers a valid status for its own socket, with a live pid of the identity
 * it reports), as every CLI command does before it trusts a socket.
 */
import type { Status } from "../schema/status.ts";
import type { DaemonEvent } from "../schema/event.ts";
import type { Method } from "../schema/constants.ts";
import type { ReloadResult } from "../schema/protocol.ts";
import { INVALID, parseStatus } from "../schema/generated/validators.ts";
import { ControlClient, type RequestOutcome } from "../daemon/wire/client.ts";
import { daemonFiles, isValidName } from "../daemon/state/paths.ts";
import { DEFAULT_PROBE_TIMEOUT_MS } from "../daemon/owner/probe.ts";
import { checkProtocol, dirsFor, statusIn, type ClientOptions } from "./daemons.ts";
import { InvalidNameError, NotRunningError, ProtocolMismatchError, RequestFailedError } from "./errors.ts";

export interface ConnectOptions extends ClientOptions {
  /** How long each request may take, in ms (default 5000). */
  requestTimeoutMs?: number;
}

export interface SignalResult {
  signalled: number;
  signal: string;
  group: boolean;
}

/** One open connection to a daemon's host. Close it when done (a host closes idle ones after 10 s). */
export interface DaemonConnection {
  readonly name: string;
  /** The host's status (the same document as `status()`). */
  status(): Promise<Status>;
  /** Starts the daemon if it is not running (intent running); its status. */
  start(): Promise<Status>;
  /** Stops the daemon (intent stopped). A standalone host then exits, closing this connection. */
  stop(): Promise<{ stopping: boolean; hostExits: boolean }>;
  /** Stops the child, then starts it again. */
  restart(): Promise<{ restarting: boolean }>;
  /** Sends a signal (name like "HUP" or number) to the daemon, or with `group` to its process group. */
  signal(signal: string | number, opts?: { group?: boolean }): Promise<SignalResult>;
  /** A supervisor's config reload (hosts inside `supervise` only). */
  reload(opts?: { dryRun?: boolean }): Promise<ReloadResult>;
  /** Any method, raw: its result, or a RequestFailedError. */
  request(method: Method, params?: Record<string, unknown>): Promise<unknown>;
  /**
   * Lifecycle events (daemonctl/event@1): those the host retains newer than `since` first, then
   * each as it happens, until the connection closes or the loop breaks. One subscription per
   * connection: a second call throws RequestFailedError (`already-subscribed`).
   */
  events(opts?: { since?: string | Date }): AsyncIterableIterator<DaemonEvent>;
  close(): void;
}

export async function connect(name: string, o: ConnectOptions = {}): Promise<DaemonConnection> {
  if (!isValidName(name)) throw new InvalidNameError(name);
  const dirs = await dirsFor(o);
  const probeTimeout = o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const verified = await statusIn(dirs, name, o);
  if (verified.pid === null) throw new NotRunningError(name, verified);
  checkProtocol(name, verified);
  const socket = daemonFiles(dirs, name).socket;
  const client = await ControlClient.open(socket, probeTimeout);
  if (!(client instanceof ControlClient)) throw new RequestFailedError(client.code, `cannot connect to ${socket}: ${client.message}`);
  return new Connection(name, client, o.requestTimeoutMs ?? 5_000);
}

class Connection implements DaemonConnection {
  private subscribed = false;

  constructor(
    readonly name: string,
    private readonly client: ControlClient,
    private readonly timeoutMs: number,
  ) {}

  async request(method: Method, params?: Record<string, unknown>): Promise<unknown> {
    return resultOf(await this.client.request(method, params, this.timeoutMs), method);
  }

  async status(): Promise<Status> {
    return checkedStatus(await this.request("status"));
  }

  async start(): Promise<Status> {
    return checkedStatus(await this.request("start", {}));
  }

  async stop(): Promise<{ stopping: boolean; hostExits: boolean }> {
    return (await this.request("stop", { reason: "stop" })) as { stopping: boolean; hostExits: boolean };
  }

  async restart(): Promise<{ restarting: boolean }> {
    return (await this.request("restart", {})) as { restarting: boolean };
  }

  async signal(signal: string | number, opts: { group?: boolean } = {}): Promise<SignalResult> {
    return (await this.request("signal", { signal, group: opts.group === true })) as SignalResult;
  }

  async reload(opts: { dryRun?: boolean } = {}): Promise<ReloadResult> {
    return (await this.request("reload", { dryRun: opts.dryRun === true })) as ReloadResult;
  }

  events(opts: { since?: string | Date } = {}): AsyncIterableIterator<DaemonEvent> {
    // The client has one event handler: a second subscription would take it over, and the first
    // iterator would then never see an event or the close again (it would wait forever).
    if (this.subscribed) throw new RequestFailedError("already-subscribed", `events: this connection to ${this.name} is subscribed already (one subscription per connection: connect again)`);
    this.subscribed = true;
    const queue: DaemonEvent[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    let failure: Error | null = null;
    const nudge = () => {
      wake?.();
      wake = null;
    };
    this.client.onEvent = (e) => {
      queue.push(e);
      nudge();
    };
    this.client.onClose = () => {
      ended = true;
      nudge();
    };
    const since = opts.since instanceof Date ? opts.since.toISOString() : opts.since;
    const subscribed = this.request("events", since === undefined ? { follow: true } : { follow: true, since }).catch((e: Error) => {
      failure = e;
      ended = true;
      nudge();
    });
    const close = () => this.close();
    const iterator: AsyncIterableIterator<DaemonEvent> = {
      async next(): Promise<IteratorResult<DaemonEvent>> {
        await subscribed;
        for (;;) {
          if (queue.length) return { value: queue.shift()!, done: false };
          if (failure) throw failure;
          if (ended) return { value: undefined, done: true };
          await new Promise<void>((r) => (wake = r));
        }
      },
      async return(): Promise<IteratorResult<DaemonEvent>> {
        close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  close(): void {
    this.client.close();
  }
}

function resultOf(r: RequestOutcome, method: string): unknown {
  switch (r.kind) {
    case "ok":
      return r.result;
    case "error":
      throw new RequestFailedError(r.code, `${method}: the host answered ${r.code}: ${r.message}`);
    case "timeout":
      throw new RequestFailedError("timeout", `${method}: no answer in time`);
    case "closed":
      throw new RequestFailedError("closed", `${method}: the host closed the connection`);
  }
}

function checkedStatus(raw: unknown): Status {
  const s = parseStatus(raw);
  if (s === INVALID) throw new ProtocolMismatchError("the host's status does not match daemonctl/status@1 (install matching versions)");
  return s;
}
