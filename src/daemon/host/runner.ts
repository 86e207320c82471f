/**
 * ChildRunner: one daemon's child process, from spawn to its last exit.
 *
 * It owns the restart policy (backoff, start limit), readiness, stopping with stopSignal →
 * stopTimeout → SIGKILL to the process group, and output plumbing with back-pressure. It knows
 * nothing of sockets or files: the host (standalone or inside `supervise`) listens to its hooks.
 *
 * States: idle → starting → running ⇄ (exit) → backoff → starting … ; → failed (start limit),
 * exited (policy says no restart), stopping → stopped (asked to stop); a oneshot that exits 0 →
 * done (docs/lifecycle.md#one-shot-tasks).
 */
import { timerDelay } from "../../poll.ts";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { spawnManaged } from "../../platform/spawn.ts";
import { entryExists } from "../../platform/files.ts";
import { sendSignal } from "../../platform/signals.ts";
import { resolveGroup, resolveUser } from "../../platform/users.ts";
import type { ExitInfo, SignalName } from "../../schema/common.ts";
import { isOneshot, type Definition } from "../../schema/definition.ts";
import type { EventType } from "../../schema/event.ts";
import type { EventFields } from "./events.ts";
import { identityOf, isSameProcess, signalOwnGroup } from "../../platform/identity.ts";
import { INVOCATION_ENV, NAME_ENV } from "../owner/proof.ts";
import { backoffDelay, cleanExit, shouldRestart, StartLimiter, type ExitOutcome } from "../policy.ts";
import { startReadiness, type ReadinessCheck } from "./readiness.ts";
import { formatDuration } from "../../schema/units.ts";
import { loadNotifySupport, notifySupportLoaded, openNotifySocket, type NotifySender, type NotifySocket } from "../../platform/notify-socket.ts";
import { readProcStat } from "../../platform/proc.ts";
import { applyNotify } from "./notify.ts";
import { launchSpec, outputDrained, resolveCommand } from "./launch.ts";
import { describeEnvFileProblem, readEnvFiles } from "../definition/envfile.ts";
import { trace } from "../../trace.ts";

export type RunnerState = "idle" | "starting" | "running" | "backoff" | "stopping" | "stopped" | "failed" | "exited" | "done";
export type StreamName = "stdout" | "stderr";

/** Where the child's output goes: a log file, our own stdio, or the supervisor's prefixer. */
export interface OutputSink {
  /** Returns false when the consumer is full; the runner pauses the child until `drained`. */
  write(stream: StreamName, chunk: Uint8Array): boolean;
  /** The child is gone: finish a partial last line. */
  flush(stream: StreamName): void;
  drained(): Promise<void>;
}

export interface RunnerHooks {
  event(type: EventType, fields: EventFields): void;
  /** State, child or readiness changed: time to persist. */
  changed(): void;
  /**
   * A spawn is about to start with `invocation` (already set): record it now, synchronously. The
   * child exists from the fork on, long before `spawn` returns its pid; a host killed in between
   * must leave a trace that finds it. Returns an error message when it could not be recorded
   * (a full or read-only runtime directory): then nothing is spawned, since a child nobody could
   * find after a crash is the orphan this record exists to prevent.
   */
  spawning(): string | null;
  /** An exit nobody asked for, before the policy decides; "hold" suppresses restarts. */
  unexpectedExit?(exit: ExitOutcome): "policy" | "hold";
  log(level: "debug" | "info" | "warn" | "error", message: string): void;
}

const MAX_TAP_LINE = 64 * 1024;

export class ChildRunner {
  state: RunnerState = "idle";
  ready = false;
  pid: number | null = null;
  identity: string | null = null;
  startedAt: string | null = null;
  restarts = 0;
  lastExit: ExitInfo | null = null;
  /** Random id placed in the child's environment: proof of ownership for a later reclaim. */
  invocation: string | null = null;
  /** The last `STATUS=` over NOTIFY_SOCKET (cleared at each spawn). */
  statusText: string | null = null;
  /** `MAINPID=`: the process `signal` reaches, once verified to be in the child's session. */
  mainPid: number | null = null;
  /** The daemon announced `STOPPING=1`, or we are stopping it for its watchdog: public `stopping`. */
  winding = false;

  private child: ChildProcess | null = null;
  private spawnedAtMs = 0;
  private failures = 0;
  /** Why the last spawn could not exec, when it could not: such a daemon is `failed` at once. */
  execFailure: string | null = null;
  private limiter: StartLimiter;
  private readiness: ReadinessCheck | null = null;
  private readyTimer: ReturnType<typeof setTimeout> | null = null;
  private backoffTimer: ReturnType<typeof setTimeout> | null = null;
  private killTimer: ReturnType<typeof setTimeout> | null = null;
  private stopWaiters: Array<() => void> = [];
  private startAfterStop = false;
  private readonly tapBuffers: Record<StreamName, string> = { stdout: "", stderr: "" };
  private notifySocket: NotifySocket | null = null;
  private notifyIgnored = 0;
  private mainPidIdentity: string | null = null;
  private readyDeadline = 0;
  private killDeadline = 0;
  private watchdogTimer: ReturnType<typeof setTimeout> | null = null;
  /** The next exit counts as a failure whatever its code (a missed watchdog). */
  private failNextExit = false;
  /** The child has exited and its output is being drained; the exit settles when this resolves. */
  private ending: Promise<void> | null = null;
  private stopAfterDrain = false;
  /** The env files' variables as read for the current spawn. */
  private fileEnv: Record<string, string> = {};

  constructor(
    readonly name: string,
    private definition: Definition,
    private readonly baseEnv: NodeJS.ProcessEnv,
    private readonly sink: OutputSink,
    private readonly hooks: RunnerHooks,
    /** Where this daemon's NOTIFY_SOCKET goes (R/NAME.notify), bound only when it needs one. */
    private readonly notifyPath: string | null = null,
  ) {
    this.limiter = new StartLimiter(definition.startLimit.burst, definition.startLimit.interval);
  }

  get def(): Definition {
    return this.definition;
  }

  /** Swaps in a new definition (takes effect at the next spawn). */
  setDefinition(def: Definition): void {
    this.definition = def;
    this.limiter = new StartLimiter(def.startLimit.burst, def.startLimit.interval);
  }

  isActive(): boolean {
    return this.state === "starting" || this.state === "running" || this.state === "backoff" || this.state === "stopping";
  }

  hasChild(): boolean {
    return this.child !== null;
  }

  /** Supervise boot: the daemon last ended `failed` and stays so until started (no crash loop). */
  restoreFailed(lastExit: ExitInfo | null, restarts: number): void {
    this.state = "failed";
    this.lastExit = lastExit;
    this.restarts = restarts;
  }

  /**
   * A `once` oneshot whose success is on record: done without running (docs/lifecycle.md).
   * The `done` event lets dependents waiting for it go ahead.
   */
  markDone(): void {
    this.state = "done";
    this.ready = false;
    this.hooks.event("done", { code: this.lastExit?.code ?? 0, message: "already done (once)" });
    this.hooks.changed();
  }

  /** The daemon counts as up for those that depend on it: ready (a longrun) or done (a oneshot). */
  satisfiesDependents(): boolean {
    return isOneshot(this.definition) ? this.state === "done" : this.ready;
  }

  /** Explicit start: clears the failure history (`failed` lasts until start/restart). */
  start(): void {
    if (this.state === "starting" || this.state === "running") return;
    this.limiter.reset();
    this.failures = 0;
    if (this.state === "stopping") {
      this.startAfterStop = true;
      return;
    }
    this.clearBackoff();
    this.spawnChild();
  }

  /**
   * Stops the child: stopSignal to its group, SIGKILL after stopTimeout. Resolves once it is gone.
   * With no child, `failed` and `exited` stay as they are: how the daemon last ended is what the
   * next boot decides on (a failed daemon must not crash-loop after every container restart).
   */
  stop(): Promise<void> {
    this.startAfterStop = false;
    this.clearBackoff();
    if (!this.child && this.ending) {
      // Exited, its output still draining: the stop is settled with the exit.
      this.stopAfterDrain = true;
      return new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    }
    if (!this.child) {
      if (this.state !== "stopped" && this.state !== "failed" && this.state !== "exited" && this.state !== "done") {
        this.state = "stopped";
        this.hooks.changed();
      }
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (this.state !== "stopping") {
      const terminating = this.killTimer !== null;
      this.state = "stopping";
      this.ready = false;
      this.cancelReadiness();
      this.hooks.event("stop", { pid: this.pid });
      this.hooks.changed();
      // Already on its way out for its watchdog: that stop signal and SIGKILL deadline stand.
      if (!terminating) this.terminate();
    }
    return done;
  }

  /** stopSignal to the child's group now, SIGKILL after stopTimeout (EXTEND_TIMEOUT_USEC may move it). */
  private terminate(): void {
    signalOwnGroup(this.pid!, this.definition.stopSignal as SignalName);
    this.armKillTimer(this.definition.stopTimeout);
  }

  private armKillTimer(ms: number): void {
    if (this.killTimer) clearTimeout(this.killTimer);
    const pid = this.pid!;
    this.killDeadline = Date.now() + ms;
    this.killTimer = setTimeout(() => {
      this.hooks.log("warn", `${this.name}: still running ${formatDuration(ms)} after ${this.definition.stopSignal}; sending SIGKILL to its process group`);
      signalOwnGroup(pid, "SIGKILL");
    }, timerDelay(ms));
  }

  /**
   * Stops the child as a failure (a missed watchdog, an unhealthy daemon): stopSignal to its
   * group, SIGKILL after stopTimeout, as stop() does; but intent stays, and the restart policy
   * decides on its exit as on a crash's, counting it as a failure even if it exits 0 on the signal.
   */
  failChild(why: string): void {
    this.disarmWatchdog();
    if (!this.stoppable()) return;
    this.hooks.log("warn", `${this.name}: ${why}; stopping it (${this.definition.stopSignal})`);
    this.failNextExit = true;
    this.hooks.changed();
    this.terminate();
  }

  /** A live child not already on its way out (asked to stop, or signalled as a failure). */
  private stoppable(): boolean {
    return this.child !== null && this.pid !== null && this.state !== "stopping" && this.killTimer === null;
  }

  /** SIGKILL to the child's group now (grace expired, or a second shutdown signal). */
  kill(): void {
    if (this.pid !== null && this.child) signalOwnGroup(this.pid, "SIGKILL");
  }

  /** Forwards a signal to the child process itself, or with `group` to its whole process group. */
  signal(sig: SignalName, group = false): boolean {
    if (this.pid === null || this.child === null) return false;
    return group ? signalOwnGroup(this.pid, sig) : sendSignal(this.signalTarget(), sig);
  }

  /** The main process the daemon named (MAINPID=), while it is still that process; else the child. */
  signalTarget(): number {
    if (this.mainPid !== null && isSameProcess(this.mainPid, this.mainPidIdentity)) return this.mainPid;
    return this.pid!;
  }

  private clearBackoff(): void {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
  }

  private cancelReadiness(): void {
    this.readiness?.cancel();
    this.readiness = null;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = null;
    this.disarmWatchdog();
  }

  /** The child's environment: checkEnv's, plus its own notify socket and watchdog period. */
  private childEnv(): NodeJS.ProcessEnv {
    const env = this.checkEnv();
    if (this.notifySocket) env.NOTIFY_SOCKET = this.notifySocket.path;
    if (this.definition.watchdog !== undefined) env.WATCHDOG_USEC = String(this.definition.watchdog * 1000);
    return env;
  }

  /**
   * For exec readiness and health checks: the child's environment without its notify socket and
   * watchdog, so a check running the daemon's own binary cannot report ready or alive for it.
   */
  checkEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...this.baseEnv, ...this.fileEnv, ...this.definition.env, [NAME_ENV]: this.name, [INVOCATION_ENV]: this.invocation ?? "" };
    // Never inherited: a NOTIFY_SOCKET from our own environment belongs to whoever started us.
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    return env;
  }

  private needsNotify(): boolean {
    return this.definition.ready === "notify" || this.definition.watchdog !== undefined;
  }

  private spawnChild(): void {
    // FFI for the notify socket loads once per process, asynchronously; the spawn then resumes
    // unless a stop came meanwhile.
    if (this.needsNotify() && !notifySupportLoaded()) {
      this.state = "starting";
      void loadNotifySupport().then(() => {
        if (this.state === "starting" && !this.child) this.spawnChild();
      });
      return;
    }
    if (!this.prepareSpawn()) return;
    if (!this.readEnvFiles()) return;
    if (!this.openNotify()) return;
    trace("host: spawning child");
    const child = this.launch();
    trace("host: spawn returned");
    if (!child) return this.closeNotify();
    this.adopt(child);
    // A oneshot has no readiness: once spawned it is running (not ready) until it is done.
    if (isOneshot(this.definition)) this.state = "running";
    this.watchExit(child);
    this.pipe(child.stdout, "stdout");
    this.pipe(child.stderr, "stderr");
    if (this.pid !== null) this.hooks.event("spawn", { pid: this.pid, restarts: this.restarts });
    this.hooks.changed();
    // A oneshot has no readiness to wait for and no time limit: it is done when it exits 0.
    if (!isOneshot(this.definition)) this.watchReadiness(child);
  }

  /**
   * Env files are read afresh for each spawn, so a restart sees them as they are now. One that
   * went missing or bad since `start` checked it is a failed start at once, like a command that
   * cannot be executed: the file is configuration, and retrying would not fix it.
   */
  private readEnvFiles(): boolean {
    this.fileEnv = {};
    if (!this.definition.envFile) return true;
    const read = readEnvFiles(this.definition.envFile);
    if (!("problem" in read)) {
      this.fileEnv = read.values;
      return true;
    }
    this.execFailure = `cannot start ${this.definition.command[0]}: env file ${describeEnvFileProblem(read.problem)}`;
    this.hooks.log("error", `${this.name}: ${this.execFailure}`);
    this.finishExit({ code: 1, signal: null });
    return false;
  }

  /** Binds NOTIFY_SOCKET for this spawn; a failure is a failed start (no restart would fix it). */
  private openNotify(): boolean {
    this.statusText = null;
    this.mainPid = this.mainPidIdentity = null;
    this.winding = this.failNextExit = false;
    if (!this.needsNotify() || this.notifyPath === null) return true;
    try {
      const uid = this.childUid();
      // A child of another uid cannot reach R (0700, ours): it gets the same name as an abstract
      // address instead, which needs no path, and the credentials check still admits only it.
      // Unique per spawn: a just-closed abstract name stays taken until the kernel has finished
      // with its cancelled poll, and an immediate respawn would find it in use.
      const path = uid === (process.getuid?.() ?? 0) ? this.notifyPath : `@daemonctl/${randomUUID()}`;
      const sock = openNotifySocket(path, uid);
      sock.onMessage((text, from) => this.onNotify(text, from));
      this.notifySocket = sock;
      return true;
    } catch (e) {
      this.execFailure = `cannot start ${this.definition.command[0]}: NOTIFY_SOCKET: ${(e as Error).message}`;
      this.hooks.log("error", `${this.name}: ${this.execFailure}`);
      this.finishExit({ code: 1, signal: null });
      return false;
    }
  }

  private closeNotify(): void {
    this.notifySocket?.close();
    this.notifySocket = null;
  }

  /** The uid the child runs as: the only sender a notify socket accepts. */
  private childUid(): number {
    const user = this.definition.user;
    if (user === null) return process.getuid?.() ?? 0;
    return resolveUser(user)?.uid ?? -1;
  }

  private onNotify(text: string, from: NotifySender | null): void {
    if (!this.child || this.pid === null) return;
    const uid = this.childUid();
    if (!from || from.uid !== uid) {
      this.notifyIgnored++;
      this.hooks.log("debug", `${this.name}: ignored a NOTIFY_SOCKET datagram from ${from ? `uid ${from.uid} (pid ${from.pid})` : "an unknown sender"}: only uid ${uid} may send (${this.notifyIgnored} ignored)`);
      return;
    }
    applyNotify(text, {
      mainPid: (pid) => this.acceptMainPid(pid),
      // Live only (status answers it): a chatty daemon must not cost a file write per message.
      status: (t) => (this.statusText = t),
      reloading: () => {
        if (!this.ready) return;
        this.ready = false;
        this.hooks.changed();
      },
      stopping: () => {
        this.winding = true;
        this.ready = false;
        this.hooks.changed();
      },
      ready: () => this.notifyReady(),
      watchdog: (trigger) => {
        if (trigger) this.watchdogExpired();
        else if (this.watchdogTimer) this.armWatchdog();
      },
      extendTimeout: (ms) => this.extendTimeout(ms),
    });
  }

  /** Only a process of the child's own session: a daemon must not point `signal` at a stranger. */
  private acceptMainPid(pid: number): void {
    const st = readProcStat(pid);
    const identity = identityOf(pid);
    if (!st || identity === null || (st.session !== this.pid && st.pgrp !== this.pid)) {
      this.hooks.log("warn", `${this.name}: ignoring MAINPID=${pid}: not a live process of the daemon's session`);
      return;
    }
    this.mainPid = pid;
    this.mainPidIdentity = identity;
    this.hooks.changed();
  }

  private notifyReady(): void {
    if (this.definition.ready === "notify" && this.state === "starting") return this.readiness?.ready();
    if (this.state === "running" && !this.ready && !this.winding) {
      this.ready = true;
      this.hooks.event("ready", { pid: this.pid });
      this.hooks.changed();
    }
  }

  /** EXTEND_TIMEOUT_USEC: never shortens the deadline it applies to. */
  private extendTimeout(ms: number): void {
    const now = Date.now();
    if (this.state === "starting" && this.readyTimer && now + ms > this.readyDeadline) this.armReadyTimer(ms);
    else if (this.killTimer && now + ms > this.killDeadline) this.armKillTimer(ms);
  }

  private armWatchdog(): void {
    const period = this.definition.watchdog;
    if (period === undefined) return;
    if (this.watchdogTimer) clearTimeout(this.watchdogTimer);
    this.watchdogTimer = setTimeout(() => this.watchdogExpired(), timerDelay(period));
  }

  private disarmWatchdog(): void {
    if (this.watchdogTimer) clearTimeout(this.watchdogTimer);
    this.watchdogTimer = null;
  }

  /** A missed keep-alive: stop it as `stop` would, and let the policy restart it as failed. */
  private watchdogExpired(): void {
    this.disarmWatchdog();
    if (!this.stoppable()) return;
    const period = this.definition.watchdog ?? 0;
    this.hooks.event("watchdog", { pid: this.pid, delayMs: period });
    // A silent daemon is presumed hung: no longer ready, and on its way out (state `stopping`).
    this.winding = true;
    this.ready = false;
    this.failChild(`no WATCHDOG=1 within ${formatDuration(period)}`);
  }

  /** The invocation id is recorded before the fork: see RunnerHooks.spawning for why. */
  private prepareSpawn(): boolean {
    this.execFailure = null;
    this.limiter.record(Date.now());
    this.state = "starting";
    this.ready = false;
    this.invocation = randomUUID();
    const unrecorded = this.hooks.spawning();
    if (unrecorded === null) return true;
    // Not an exec failure: space may come back, so the restart policy (with backoff) decides.
    this.hooks.log("error", `${this.name}: not starting it: ${unrecorded}`);
    this.finishExit({ code: 1, signal: null });
    return false;
  }

  /** Spawns the command; null, its exit already reported as 127, when it could not be started. */
  private launch(): ChildProcess | null {
    const def = this.definition;
    const file = def.command[0]!;
    const env = this.childEnv();
    const resolved = def.watchdog !== undefined ? resolveCommand(file, env.PATH, def.cwd) : null;
    if (resolved !== null && !resolved.ok) {
      this.execFailure = `cannot execute ${file}: ${resolved.reason}`;
      this.hooks.log("error", `${this.name}: ${this.execFailure}`);
      this.finishExit({ code: resolved.code, signal: null });
      return null;
    }
    const spec = launchSpec(def.command, def.watchdog !== undefined, fdReadiness(def.ready));
    try {
      return spawnManaged(spec.file, spec.args, {
        cwd: def.cwd,
        env,
        stdio: spec.stdio,
        // Own session and process group: stop signals and SIGKILL reach the whole daemon,
        // and a terminal's Ctrl+C on a foreground host does not hit the child directly.
        detached: true,
        ...this.credentials(),
      });
    } catch (e) {
      this.execFailure = `cannot start ${file}: ${(e as Error).message}`;
      this.hooks.log("error", `${this.name}: ${this.execFailure}`);
      this.finishExit({ code: 127, signal: null });
      return null;
    }
  }

  private adopt(child: ChildProcess): void {
    this.child = child;
    this.pid = child.pid ?? null;
    this.identity = this.pid ? identityOf(this.pid) : null;
    this.spawnedAtMs = Date.now();
    this.startedAt = new Date(this.spawnedAtMs).toISOString();
  }

  /**
   * Handles the child's end once. After an 'error', Node may or may not also emit 'exit'; and
   * only a failed exec is an end: any other error (a failed kill) leaves the child running.
   */
  private watchExit(child: ChildProcess): void {
    const file = this.definition.command[0];
    let exited = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (exited) return;
      exited = true;
      this.handleExit(child, { code, signal: signal ?? null });
    };
    child.once("error", (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined && err.code !== "ENOENT" && err.code !== "EACCES") return;
      const code = err.code === "ENOENT" ? 127 : 126;
      this.execFailure = `cannot execute ${file}: ${execReason(err, this.definition.cwd)}`;
      this.hooks.log("error", `${this.name}: ${this.execFailure}`);
      exited = true;
      this.handleExit(child, { code, signal: null }, false);
    });
    child.once("exit", onExit);
  }

  /** Starts the readiness check; a child not ready within readyTimeout is killed. */
  private watchReadiness(child: ChildProcess): void {
    const def = this.definition;
    const fd = fdReadiness(def.ready);
    this.readiness = startReadiness(def.ready, {
      cwd: def.cwd,
      env: this.checkEnv(),
      isAlive: () => this.child === child && this.state === "starting",
      onReady: () => this.becomeReady(),
      readyPipe: fd === null ? null : ((child.stdio[fd] as Readable | null | undefined) ?? null),
      whenExecuted: (fn) => child.once("spawn", fn),
    });
    this.armReadyTimer(def.readyTimeout);
  }

  private armReadyTimer(ms: number): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    const child = this.child;
    const def = this.definition;
    this.readyDeadline = Date.now() + ms;
    this.readyTimer = setTimeout(() => {
      if (this.child !== child || this.ready) return;
      this.hooks.log("error", `${this.name}: not ready within ${formatDuration(ms)} (${def.ready}); killing it`);
      this.cancelReadiness();
      this.kill();
    }, timerDelay(ms));
  }

  private becomeReady(): void {
    trace("host: child ready");
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = null;
    this.readiness = null;
    this.state = "running";
    this.ready = !this.winding;
    this.hooks.event("ready", { pid: this.pid });
    this.hooks.changed();
    this.armWatchdog();
  }

  private credentials(): { uid?: number; gid?: number } {
    const def = this.definition;
    const out: { uid?: number; gid?: number } = {};
    if (def.user !== null) {
      const u = resolveUser(def.user);
      if (!u) throw new Error(`unknown user ${def.user}`);
      out.uid = u.uid;
      if (u.gid !== null) out.gid = u.gid;
    }
    if (def.group !== null) {
      const g = resolveGroup(def.group);
      if (g === null) throw new Error(`unknown group ${def.group}`);
      out.gid = g;
    }
    return out;
  }

  private pipe(stream: Readable | null, name: StreamName): void {
    if (!stream) return;
    stream.on("data", (chunk: Uint8Array) => {
      if (this.readiness?.onLine) this.tap(name, chunk);
      if (!this.sink.write(name, chunk)) {
        stream.pause();
        void this.sink.drained().then(() => stream.resume());
      }
    });
    stream.on("error", () => {});
  }

  /** Splits output into lines for `log:REGEX` readiness; stops once ready. */
  private tap(name: StreamName, chunk: Uint8Array): void {
    let text = this.tapBuffers[name] + Buffer.from(chunk).toString("utf8");
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, nl).replace(/\r$/, "");
      text = text.slice(nl + 1);
      this.readiness?.onLine?.(line);
      if (!this.readiness) {
        text = "";
        break;
      }
    }
    this.tapBuffers[name] = text.length > MAX_TAP_LINE ? "" : text;
  }

  private handleExit(child: ChildProcess, exit: ExitOutcome, drain = true): void {
    if (this.child !== child) return;
    const pid = this.pid;
    this.child = null;
    this.cancelReadiness();
    this.closeNotify();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = null;
    // Whatever the leader left behind in its group (workers, `cmd &` from a shell) goes with it:
    // leftovers would hold ports and files and block the restart.
    if (pid) signalOwnGroup(pid, "SIGKILL");
    // 'exit' can come before the last of the child's output has been read from its pipes: the
    // exit is settled (and a partial last line finished) only once they are drained, or else a
    // line would be cut in two and the tail lost when supervise then exits.
    // Until then the daemon must not look alive: no pid, not ready, the exit on record.
    this.noteExit(exit);
    this.hooks.changed();
    this.ending = (drain ? outputDrained(child, OUTPUT_DRAIN_MS) : Promise.resolve()).then(() => {
      this.ending = null;
      this.sink.flush("stdout");
      this.sink.flush("stderr");
      this.tapBuffers.stdout = this.tapBuffers.stderr = "";
      // A stop that came while the output drained: the exit is that stop's, unless it was a
      // oneshot's success, which stays done.
      if (this.stopAfterDrain && !(isOneshot(this.definition) && cleanExit(exit))) this.state = "stopping";
      this.stopAfterDrain = false;
      this.finishExit(exit, pid, true);
    });
  }

  private finishExit(exit: ExitOutcome, pid: number | null = null, noted = false): void {
    this.recordExit(exit, pid, noted);
    if (this.state === "stopping") return this.settleStop();
    if (isOneshot(this.definition) && cleanExit(exit)) return this.complete(pid);
    const hold = this.hooks.unexpectedExit?.(exit) === "hold";
    // A missing or non-executable file stays so: restarting would only loop until the start limit.
    if (!hold && this.execFailure !== null) return this.giveUp(exit, "a command that cannot be started is not restarted");
    // A failure even when the exit is a clean 0: stopped for a missed watchdog or a failed health
    // check, or gone before its readiness check passed (a failed start, not a ready one).
    const beforeReady = this.state === "starting" && this.definition.ready !== "none";
    const asFailure = (this.failNextExit || beforeReady) && cleanExit(exit);
    const judged = asFailure ? { code: 1, signal: null } : exit;
    this.failNextExit = false;
    if (hold || !shouldRestart(this.definition.restart, judged)) {
      if (asFailure && !hold) return this.giveUp(exit, beforeReady ? "it exited before it was ready, and its policy does not restart it" : "it was stopped as a failure, and its policy does not restart it");
      this.state = "exited";
      this.hooks.changed();
      return;
    }
    const now = Date.now();
    if (this.limiter.exhausted(now)) return this.giveUp(exit);
    this.scheduleRestart(exit, now);
  }

  /** `noted`: handleExit put the exit on record already (at the exit, before the output drained). */
  private recordExit(exit: ExitOutcome, pid: number | null, noted: boolean): void {
    if (!noted) this.noteExit(exit);
    this.hooks.event("exit", { pid, code: exit.code, signal: exit.signal, restarts: this.restarts });
  }

  /** The child is gone: no pid, not ready, its exit on record (what it means is decided later). */
  private noteExit(exit: ExitOutcome): void {
    this.pid = null;
    this.mainPid = this.mainPidIdentity = null;
    this.winding = false;
    this.identity = null;
    this.invocation = null;
    this.ready = false;
    this.lastExit = { code: exit.code, signal: exit.signal, at: new Date().toISOString() };
  }

  /** A oneshot ran to completion: never restarted, whatever the policy says. */
  private complete(pid: number | null): void {
    this.state = "done";
    this.failures = 0;
    this.hooks.event("done", { pid, code: 0, restarts: this.restarts });
    this.hooks.changed();
    for (const w of this.stopWaiters.splice(0)) w(); // a stop that met the task as it finished
  }

  /** The exit we asked for: wake the stop() callers, then honour a start() that came meanwhile. */
  private settleStop(): void {
    this.state = "stopped";
    this.hooks.changed();
    for (const w of this.stopWaiters.splice(0)) w();
    if (this.startAfterStop) {
      this.startAfterStop = false;
      this.start();
    }
  }

  private giveUp(exit: ExitOutcome, why?: string): void {
    this.state = "failed";
    const { burst, interval } = this.definition.startLimit;
    const reason = why ?? `started ${burst} times within ${formatDuration(interval)}; giving up`;
    this.hooks.log("error", `${this.name}: ${reason} (state failed) until start or restart`);
    this.hooks.event("failed", { code: exit.code, signal: exit.signal, restarts: this.restarts });
    this.hooks.changed();
  }

  /** Backoff grows with consecutive failures; a run that lasted `resetAfter` starts it over. */
  private scheduleRestart(exit: ExitOutcome, now: number): void {
    if (now - this.spawnedAtMs >= this.definition.backoff.resetAfter) this.failures = 0;
    this.failures++;
    const delayMs = backoffDelay(this.failures, this.definition.backoff.initial, this.definition.backoff.max);
    this.state = "backoff";
    this.hooks.event("backoff", { delayMs, restarts: this.restarts, code: exit.code, signal: exit.signal });
    this.hooks.changed();
    this.backoffTimer = setTimeout(() => this.restartNow(), timerDelay(delayMs));
  }

  /** The restart a backoff waits for, now (a start asked for meanwhile): counted as one. */
  restartNow(): void {
    if (this.state !== "backoff") return;
    this.clearBackoff();
    this.restarts++;
    this.hooks.event("restart", { restarts: this.restarts });
    this.spawnChild();
  }
}

/** The errno of a failed exec, in the words a shell would use. */
/** ENOENT from a spawn is the program or the working directory: say which. */
function execReason(err: NodeJS.ErrnoException, cwd: string | undefined): string {
  if (err.code === "ENOENT" && cwd && !entryExists(cwd, "directory")) return `its working directory ${cwd} does not exist`;
  if (err.code === "ENOENT") return "command not found";
  if (err.code === "EACCES") return "permission denied";
  return err.message;
}

/** `fd:N` → N; null for every other readiness. */
function fdReadiness(spec: string): number | null {
  return spec.startsWith("fd:") ? Number(spec.slice(3)) : null;
}

/** How long an exited child's pipes may stay open (a grandchild outside its group holds them). */
const OUTPUT_DRAIN_MS = 1_000;
