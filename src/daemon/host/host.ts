/**
 * DaemonHost: the owner of one daemon's control socket, metadata and state, and the runner of
 * its child.
 *
 * A standalone host (`start --foreground`, or the detached process a plain `start` launches) is
 * one process with one DaemonHost; `supervise` is one process with many. Process-level concerns
 * (signals, exit codes) live in host-main.ts and supervise/, not here.
 */
import { renameSync, chownSync } from "node:fs";
import { METADATA_SCHEMA, metadataSchema, type Metadata } from "../../schema/metadata.ts";
import { definitionSchema, isOneshot, type Definition } from "../../schema/definition.ts";
import { PROTOCOL_VERSION, reloadParamsSchema, type ReloadResult, eventsParamsSchema, signalParamsSchema, startParamsSchema, stopParamsSchema, type Method } from "../../schema/protocol.ts";
import { STATUS_SCHEMA, type DaemonState, type Status } from "../../schema/status.ts";
import { stateAfterEnd } from "../policy.ts";
import type { Intent, LastState } from "../../schema/state.ts";
import type { DaemonEvent, EventType } from "../../schema/event.ts";
import { normalizeSignal, type ExitInfo } from "../../schema/common.ts";
import { VERSION } from "../../version.ts";
import { claimSocket, type ClaimOutcome } from "./bind-guard.ts";
import { EventBus, makeEvent, type EventFields } from "./events.ts";
import { definitionIdentity, FreshnessMemo } from "../definition/freshness.ts";
import { selfIdentity } from "../../platform/identity.ts";
import { consumePlannedStopMarker, INTENT_NOT_RECORDED, readState, setIntent, unrecordedStopMessage, updateState } from "../state/intent.ts";
import { bindPathOf, daemonFiles, socketPathProblem, type DaemonFiles, type Dirs } from "../state/paths.ts";
import { provenHost } from "../owner/proof.ts";
import { ChildRunner, type OutputSink } from "./runner.ts";
import { HealthMonitor, type HealthCheckResult } from "./health.ts";
import type { HealthState } from "../../schema/constants.ts";
import type { Logger } from "../../logger.ts";
import type { Sharing } from "../state/sharing.ts";
import { ControlServer, ProtocolError, type ClientConnection } from "../wire/server.ts";
import { inodeOf, readJson, removeQuietly, unlinkIfSocket, versionOf, writeJsonAtomic } from "../state/store.ts";
import type { ExitOutcome } from "../policy.ts";
import { trace } from "../../trace.ts";

export interface HostOptions {
  name: string;
  definition: Definition;
  identity: string;
  dirs: Dirs;
  /** Inside `supervise`: a stop leaves the host serving with the child down. */
  supervised: boolean;
  sharing: Sharing;
  probeTimeoutMs: number;
  sink: OutputSink;
  /** The environment children inherit (before the definition's `env`). */
  baseEnv: NodeJS.ProcessEnv;
  log: Logger;
  /** Supervisor hooks: every event, and the chance to hold restarts (`onExit: shutdown`). */
  onEvent?: (host: DaemonHost, event: DaemonEvent) => void;
  unexpectedExit?: (host: DaemonHost, exit: ExitOutcome) => "policy" | "hold";
  /** Standalone: a stop request arrived (the host process ends itself). */
  onStopRequest?: (reason: string) => void;
  /** Supervise: a `reload` request (docs/containers.md#reloading-the-config); absent elsewhere. */
  onReload?: (dryRun: boolean) => Promise<ReloadResult>;
}

let bindCounter = 0;

export class DaemonHost {
  readonly name: string;
  readonly files: DaemonFiles;
  readonly runner: ChildRunner;
  readonly bus = new EventBus();
  readonly startedAt = new Date().toISOString();
  intent: Intent = "running";
  /** Set once another process owns our socket or metadata: we must not touch them again. */
  lost = false;
  /** A standalone host on its way out: it starts nothing any more. */
  exiting = false;

  private readonly startedAtMs = Date.now();
  private readonly self = { pid: process.pid, identity: selfIdentity() };
  private readonly server: ControlServer;
  private definition: Definition;
  private identity: string;
  private readonly freshness = new FreshnessMemo();
  private bindPath: string | null = null;
  private socketIno: number | null = null;
  private metaVersion: string | null = null;
  private writtenChild: number | null = null;
  private writtenPending: string | null = null;
  private bound = false;
  /** What writeRunnerState last wrote (state|restarts|exit time). */
  private writtenRunnerState: string | null = null;
  private released = false;
  /** The current child's health checks (from its readiness to its end), and the last result. */
  private health: HealthMonitor | null = null;
  private healthPid: number | null = null;
  private lastHealthCheck: HealthCheckResult | null = null;

  constructor(private readonly o: HostOptions) {
    this.name = o.name;
    this.files = daemonFiles(o.dirs, o.name);
    this.definition = o.definition;
    this.identity = o.identity;
    this.server = new ControlServer((method, params, conn, id) => this.handle(method, params, conn, id));
    this.runner = new ChildRunner(o.name, o.definition, o.baseEnv, o.sink, {
      event: (type, fields) => this.emit(type, fields),
      changed: () => this.persist(),
      spawning: () => this.writeMetadata(),
      unexpectedExit: o.unexpectedExit ? (exit) => o.unexpectedExit!(this, exit) : undefined,
      log: (level, message) => o.log[level](message),
    }, this.files.notify);
  }

  get def(): Definition {
    return this.definition;
  }

  get definitionIdentity(): string {
    return this.identity;
  }

  /** The bind guard, then bind. See bind-guard.ts. */
  async claim(): Promise<ClaimOutcome> {
    const tooLong =
      socketPathProblem(this.files.socket) ??
      socketPathProblem(bindPathOf(this.files, process.pid, bindCounter + 1), "bind path") ??
      socketPathProblem(this.files.notify, "notify socket path");
    if (tooLong) return { kind: "error", message: tooLong.message };
    return claimSocket({
      files: this.files,
      identity: this.identity,
      probeTimeoutMs: this.o.probeTimeoutMs,
      stopTimeoutMs: this.definition.stopTimeout,
      lock: { mode: this.o.sharing.fileMode, gid: this.o.sharing.gid, role: this.o.supervised ? "supervisor" : "host" },
      bind: () => this.bind(),
      log: (level, message) => this.o.log[level](message),
      event: (type, pid) => this.emit(type, { pid }),
    }).catch((e: Error) => ({ kind: "error" as const, message: e.message }));
  }

  /**
   * Binds at a unique temporary name, then renames into place. Both runtimes unlink a Unix
   * server's path when it closes; binding elsewhere means our close can never delete a socket
   * that a newer owner has put at NAME.sock. The mode is right from the first instant (umask).
   * The name (`R/.NAME.bPID.N`) stays visible in /proc/net/unix and proves which daemon this
   * listener serves, and for which process (ownership.ts).
   */
  private async bind(): Promise<void> {
    const bindPath = bindPathOf(this.files, process.pid, ++bindCounter);
    const tooLong = socketPathProblem(bindPath, "bind path");
    if (tooLong) throw tooLong;
    unlinkIfSocket(bindPath);
    await this.server.listen(bindPath, this.o.sharing.socketMode);
    try {
      if (this.o.sharing.gid !== undefined) chownSync(bindPath, -1, this.o.sharing.gid);
      renameSync(bindPath, this.files.socket);
    } catch (e) {
      await this.server.close(); // unlinks bindPath, our private name
      throw new Error(`cannot put the socket in place at ${this.files.socket}: ${(e as Error).message}`);
    }
    this.bindPath = bindPath;
    this.socketIno = inodeOf(this.files.socket);
    this.bound = true;
    this.writeMetadata();
  }

  /** Records intent `running` and the definition, then starts the child (unless `spawn` is false). */
  begin(spawn = true): void {
    this.intent = "running";
    const recorded = readState(this.files);
    const skip = spawn && this.completedOnce(recorded);
    this.writeState({ intent: "running", definition: this.definition, identity: this.identity, lastState: spawn && !skip ? "starting" : recorded?.lastState ?? null });
    if (spawn) this.startChild(skip);
  }

  /**
   * Starts the child, except a `once` oneshot whose success with this very definition is on
   * record: that one is done without running (docs/lifecycle.md#one-shot-tasks).
   */
  startChild(done = this.completedOnce()): void {
    if (done) this.runner.markDone();
    else this.runner.start();
  }

  private completedOnce(recorded?: ReturnType<typeof readState>): boolean {
    if (!this.definition.once || !isOneshot(this.definition)) return false;
    return (recorded === undefined ? readState(this.files) : recorded)?.completed?.identity === this.identity;
  }

  /** An event about this daemon that its runner did not make (a dependency restarted, in supervise). */
  announce(type: EventType, fields: EventFields): void {
    this.emit(type, fields);
  }

  /**
   * Supervise boot: take over what the state file recorded without starting anything. A daemon
   * that last `failed` reports failed until someone starts it.
   */
  restore(intent: Intent, failed: { lastExit: ExitInfo | null; restarts: number } | null): void {
    this.intent = intent;
    if (failed) this.runner.restoreFailed(failed.lastExit, failed.restarts);
    if (readState(this.files)) this.writeState({ definition: this.definition, identity: this.identity });
  }

  /** The status@1 answer, as this host sees itself. */
  status(): Status {
    const r = this.runner;
    return {
      schema: STATUS_SCHEMA,
      name: this.name,
      state: this.publicState(),
      ready: r.ready,
      intent: this.intent,
      pid: process.pid,
      pidIdentity: this.self.identity,
      socketPath: this.files.socket,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAtMs,
      identity: this.identity,
      fresh: this.freshness.isFresh(this.definition, this.identity),
      child: { pid: r.pid, startedAt: r.pid ? r.startedAt : null, restarts: r.restarts, lastExit: r.lastExit, ...(r.mainPid !== null ? { mainPid: r.mainPid } : {}) },
      logPath: this.files.log,
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      error: r.state === "failed" && r.execFailure ? { code: "cannot-execute", message: r.execFailure } : null,
      statusText: r.statusText,
      health: this.healthState(),
      healthCheck: this.lastHealthCheck,
    };
  }

  /** docs/status.md: null without a check or while no child runs; `starting` until a check passes. */
  private healthState(): HealthState | null {
    const r = this.runner;
    if (!r.def.health || (r.state !== "starting" && r.state !== "running")) return null;
    return this.health?.state ?? "starting";
  }

  publicState(): DaemonState {
    const r = this.runner;
    if (!r.isActive() && this.intent === "stopped") return "stopped";
    // STOPPING=1 from the daemon, or a missed watchdog: on its way out, not asked to by anyone.
    if (r.winding && (r.state === "running" || r.state === "starting")) return "stopping";
    switch (r.state) {
      case "idle":
        return "starting";
      case "exited":
        return stateAfterEnd("exited", r.lastExit);
      case "done":
        return "done";
      default:
        return r.state;
    }
  }

  private emit(type: EventType, fields: EventFields): void {
    const event = makeEvent(this.name, type, fields);
    if (type === "done" && this.definition.once && !fields.message) this.writeState({ completed: { identity: this.identity, at: event.ts } });
    this.bus.emit(event);
    this.o.onEvent?.(this, event);
    this.followHealth(type);
  }

  /** Health checks run from the child's readiness until it stops or exits; each child starts afresh. */
  private followHealth(type: EventType): void {
    if (type === "ready") this.startHealth();
    else if (type === "stop" || type === "exit" || type === "spawn") this.endHealth();
  }

  private startHealth(): void {
    const r = this.runner;
    // Ready again after RELOADING=1 is the same child: its checks, and its failure count, go on.
    if (this.health && this.healthPid === r.pid) return;
    this.endHealth();
    const spec = r.def.health;
    if (!spec || r.pid === null) return;
    this.healthPid = r.pid;
    const pid = r.pid;
    const spawnedAtMs = r.startedAt ? Date.parse(r.startedAt) : Date.now();
    const monitor = new HealthMonitor(spec, { cwd: r.def.cwd, env: r.checkEnv(), spawnedAtMs }, {
      checked: (result) => (this.lastHealthCheck = result),
      healthy: () => this.emit("healthy", { pid }),
      unhealthy: (output) => {
        this.emit("unhealthy", { pid, message: output });
        if (spec.onFailure !== "restart") return;
        // No more checks for a child on its way out; `health` stays `unhealthy` until it is gone.
        monitor.end();
        r.failChild(`health check failed ${spec.retries} time${spec.retries === 1 ? "" : "s"} in a row (${firstLine(output)})`);
      },
    });
    this.health = monitor;
    monitor.begin();
  }

  private endHealth(): void {
    this.health?.end();
    this.health = null;
  }

  private async handle(method: Method, params: Record<string, unknown>, conn: ClientConnection, id: string | number): Promise<unknown> {
    switch (method) {
      case "status":
        return this.status();
      case "events":
        return this.follow(params, conn, id);
      case "signal":
        return this.forwardSignal(params);
      case "stop":
        return this.stopRequested(params);
      case "start":
      case "restart":
        return this.startRequested(method, params);
      case "reload":
        return this.reloadRequested(params);
    }
  }

  private reloadRequested(params: Record<string, unknown>): Promise<ReloadResult> {
    if (!this.o.onReload) throw new ProtocolError("not-supervised", `${this.name} runs in its own host, not under \`daemonctl supervise\`: there is no config to reload`);
    const p = reloadParamsSchema().safeParse(params);
    if (!p.success) throw new ProtocolError("bad-params", 'expected {"dryRun"?: boolean}');
    return this.o.onReload(p.data.dryRun === true);
  }

  private follow(params: Record<string, unknown>, conn: ClientConnection, id: string | number): unknown {
    const p = eventsParamsSchema().safeParse(params);
    const since = p.success ? p.data.since : undefined;
    // Only what is retained, as the answer itself: the client knows when it has everything.
    if (p.success && p.data.follow === false) return { events: this.bus.since(since ?? "") };
    conn.subscribe(id, (push) => this.bus.subscribe(push), since ? this.bus.since(since) : []);
    return { subscribed: true };
  }

  private forwardSignal(params: Record<string, unknown>): unknown {
    const p = signalParamsSchema().safeParse(params);
    const sig = p.success ? normalizeSignal(p.data.signal) : null;
    if (!sig) throw new ProtocolError("bad-params", 'expected {"signal": "SIGHUP"} (a name or number)');
    const group = p.data?.group === true;
    const target = this.runner.pid === null ? null : group ? this.runner.pid : this.runner.signalTarget();
    if (!this.runner.signal(sig, group)) throw new ProtocolError("no-child", `${this.name} has no running child to signal`);
    return { signalled: target, signal: sig, group };
  }

  private stopRequested(params: Record<string, unknown>): unknown {
    const p = stopParamsSchema().safeParse(params);
    const reason = (p.success && p.data.reason) || "stop";
    // Intent first (docs/run-intent.md): a stop the next boot would undo is refused whole. A
    // restart or replace is no operator's stop: the start that follows records intent itself.
    const recorded = reason === "stop" ? this.recordIntent("stopped") : { ok: true as const };
    if (!recorded.ok) throw new ProtocolError(INTENT_NOT_RECORDED, unrecordedStopMessage(this.files, recorded.message));
    consumePlannedStopMarker(this.files, this.self);
    if (!this.o.supervised) {
      // Answer first; the host process then stops its child and exits.
      this.exiting = true;
      setImmediate(() => this.o.onStopRequest?.(reason));
      return { stopping: true, hostExits: true };
    }
    void this.runner.stop();
    return { stopping: true, hostExits: false };
  }

  private startRequested(method: "start" | "restart", params: Record<string, unknown>): unknown {
    if (this.exiting) throw new ProtocolError("exiting", `${this.name}'s host is shutting down; start it again once it has stopped`);
    const p = startParamsSchema().safeParse(params);
    if (p.success && p.data.definition !== undefined) this.adoptDefinition(p.data.definition);
    this.setIntent("running");
    if (method === "restart") {
      // A restart runs a `once` oneshot again on purpose: its record of success goes first.
      if (this.definition.once) this.writeState({ completed: null });
      void this.runner.stop().then(() => {
        if (!this.exiting) this.runner.start();
      });
      return { restarting: true };
    }
    // A child still stopping is replaced once it is gone (the runner starts after the stop). One
    // waiting out its backoff after a crash is restarted now: the caller asked for it to run, and
    // would otherwise take the old crash for this start's failure. Its failure count and start
    // limit stand, so callers that keep asking cannot drive a crash loop past the limit.
    const state = this.runner.state;
    if (state === "backoff") this.runner.restartNow();
    else if (!this.runner.isActive() || state === "stopping") this.startChild();
    return this.status();
  }

  /** A supervised daemon may take a new definition in place; a standalone host is replaced instead. */
  private adoptDefinition(raw: unknown): void {
    const parsed = definitionSchema().safeParse(raw);
    if (!parsed.success) throw new ProtocolError("bad-params", "definition does not match the daemon definition schema");
    const identity = definitionIdentity(parsed.data);
    if (identity === this.identity) return;
    if (!this.o.supervised) throw new ProtocolError("stale", `${this.name} runs another definition; a standalone host is replaced, not updated`);
    this.replaceDefinition(parsed.data, identity);
  }

  /**
   * Supervise: runs `definition` from now on; a running child is stopped and (unless `restart`
   * is false: the caller starts it, in dependency order) started again with it; a stopped one
   * stays stopped. Resolves once the old child is gone.
   */
  replaceDefinition(definition: Definition, identity: string, o: { restart: boolean } = { restart: true }): Promise<void> {
    this.o.log.info(`${this.name}: new definition; ${this.runner.isActive() ? "restarting with it" : "it applies at the next start"}`);
    this.definition = definition;
    this.identity = identity;
    this.runner.setDefinition(definition);
    this.writeState({ definition, identity });
    this.writeMetadata();
    if (!this.runner.isActive()) return Promise.resolve();
    return this.runner.stop().then(() => {
      // A shutdown that began meanwhile must not find a fresh child to stop.
      if (o.restart && !this.exiting) this.runner.start();
    });
  }

  /** Records intent and says whether it is on disk. */
  recordIntent(intent: Intent): { ok: true } | { ok: false; message: string } {
    this.intent = intent;
    if (this.lost) return { ok: true };
    return setIntent(this.files, intent, this.o.sharing);
  }

  /** recordIntent for callers that go on either way: a failure to write is only logged. */
  setIntent(intent: Intent): void {
    const r = this.recordIntent(intent);
    if (!r.ok) this.o.log.warn(`${this.name}: ${r.message}`);
  }

  /**
   * Step 5 of the bind guard, run whenever the runtime dir changes (ownership-watch.ts): has
   * another process taken our socket or metadata (we were frozen, then reclaimed)? Repairs
   * metadata that is merely missing.
   */
  checkOwnership(): "ok" | "lost" {
    if (!this.bound || this.lost) return this.lost ? "lost" : "ok";
    if (inodeOf(this.files.socket) !== this.socketIno) return this.markLost("its socket was replaced");
    const version = versionOf(this.files.metadata);
    if (version !== null && version === this.metaVersion) return "ok";
    const meta = readJson(this.files.metadata, metadataSchema());
    // Only a successor that provably hosts this daemon takes it over; anything else in the file
    // (garbage, another daemon's metadata copied here) is overwritten with ours.
    if (meta.kind === "ok" && !this.namesSelf(meta.value) && provenHost(meta.value, this.files)) return this.markLost(`its metadata now names pid ${meta.value.pid}`);
    this.writeMetadata();
    return "ok";
  }

  private namesSelf(meta: Metadata): boolean {
    return meta.pid === this.self.pid && meta.pidIdentity === this.self.identity;
  }

  private markLost(why: string): "lost" {
    this.lost = true;
    this.o.log.warn(`${this.name}: another process owns this daemon now (${why}); stopping our child and leaving its files alone`);
    return "lost";
  }

  private persist(): void {
    if (this.lost) return;
    if (this.runner.pid !== this.writtenChild || this.pendingInvocation() !== this.writtenPending) this.writeMetadata();
    this.writeRunnerState();
  }

  /**
   * The runner's state, restarts and last exit, written only when one of them changed: `changed()`
   * also comes for what is not on disk (readiness, STATUS=, MAINPID=), and a datagram must not
   * cost a read and parse of the state file.
   */
  private writeRunnerState(): void {
    const state = this.runner.state;
    const lastState: LastState | undefined = state === "idle" ? undefined : state;
    const key = `${lastState}|${this.runner.restarts}|${this.runner.lastExit?.at ?? ""}`;
    if (key === this.writtenRunnerState) return;
    if (this.writeState({ lastState, restarts: this.runner.restarts, lastExit: this.runner.lastExit })) this.writtenRunnerState = key;
  }

  /** The invocation of a child being spawned that metadata does not record as `child` yet. */
  private pendingInvocation(): string | null {
    const r = this.runner;
    return r.invocation && !(r.pid && r.identity) ? r.invocation : null;
  }

  /** Writes R/NAME.json; returns why it could not, or null. */
  private writeMetadata(): string | null {
    if (this.lost || !this.bound || this.released) return null;
    const r = this.runner;
    const pending = this.pendingInvocation();
    const meta: Metadata = {
      schema: METADATA_SCHEMA,
      name: this.name,
      pid: this.self.pid,
      pidIdentity: this.self.identity,
      socketPath: this.files.socket,
      bindPath: this.bindPath,
      startedAt: this.startedAt,
      identity: this.identity,
      child: r.pid && r.identity ? { pid: r.pid, identity: r.identity, invocation: r.invocation } : null,
      pendingInvocation: pending,
      supervised: this.o.supervised,
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
    };
    try {
      writeJsonAtomic(this.files.metadata, metadataSchema(), meta, { mode: this.o.sharing.fileMode, gid: this.o.sharing.gid });
      this.metaVersion = versionOf(this.files.metadata);
      this.writtenChild = r.pid;
      this.writtenPending = pending;
      return null;
    } catch (e) {
      const why = `cannot write ${this.files.metadata}: ${(e as Error).message}`;
      this.o.log.warn(`${this.name}: ${why}`);
      return why;
    }
  }

  /** Patches S/NAME.state.json; false (said in the log) when it could not. */
  private writeState(patch: Parameters<typeof updateState>[1]): boolean {
    if (this.lost) return false;
    trace(`host: write state ${patch.lastState ?? ""}`);
    const clean = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    try {
      updateState(this.files, clean, this.o.sharing);
      return true;
    } catch (e) {
      this.o.log.warn(`${this.name}: cannot write ${this.files.state}: ${(e as Error).message}`);
      return false;
    }
  }

  /** Stops the child and records how it ended. Intent is whatever callers set before. */
  async stopChild(): Promise<void> {
    await this.runner.stop();
  }

  /**
   * Leaves: metadata first, then the socket, and only what we still own, so a vanished socket
   * proves cleanup is complete. A host that lost ownership touches nothing.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.bound && !this.lost) {
      this.writeRunnerState();
      const meta = readJson(this.files.metadata, metadataSchema());
      if (meta.kind !== "ok" || this.namesSelf(meta.value)) removeQuietly(this.files.metadata);
      if (inodeOf(this.files.socket) === this.socketIno) removeQuietly(this.files.socket);
    }
    await this.server.close();
  }
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
