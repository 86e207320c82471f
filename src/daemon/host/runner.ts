/**
 * ChildRunner: one daemon's child process, from spawn to its last exit.
 *
 * It owns the restart policy (backoff, start limit), readiness, stopping with stopSignal →
 * stopTimeout → SIGKILL to the process group, and output plumbing with back-pressure. It knows
 * nothing of sockets or files: the host (standalone or inside `supervise`) listens to its hooks.
 *
 * States: idle → starting → running ⇄ (exit) → backoff → starting … ; → failed (start limit),
 * exited (policy says no restart), stopping → stopped (asked to stop).
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { spawnManaged } from "../../platform/spawn.ts";
import { entryExists } from "../../platform/files.ts";
import { sendSignal } from "../../platform/signals.ts";
import { resolveGroup, resolveUser } from "../../platform/users.ts";
import type { ExitInfo, SignalName } from "../../schema/common.ts";
import type { Definition } from "../../schema/definition.ts";
import type { EventType } from "../../schema/event.ts";
import type { EventFields } from "./events.ts";
import { identityOf, signalOwnGroup } from "../../platform/identity.ts";
import { INVOCATION_ENV, NAME_ENV } from "../owner/proof.ts";
import { backoffDelay, shouldRestart, StartLimiter, type ExitOutcome } from "../policy.ts";
import { startReadiness, type ReadinessCheck } from "./readiness.ts";
import { formatDuration } from "../../schema/units.ts";

export type RunnerState = "idle" | "starting" | "running" | "backoff" | "stopping" | "stopped" | "failed" | "exited";
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
  log(level: "info" | "warn" | "error", message: string): void;
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
  /** The child is being stopped as a failure (failChild): its exit counts as one, whatever its code. */
  private failing = false;
  private readonly tapBuffers: Record<StreamName, string> = { stdout: "", stderr: "" };

  constructor(
    readonly name: string,
    private definition: Definition,
    private readonly baseEnv: NodeJS.ProcessEnv,
    private readonly sink: OutputSink,
    private readonly hooks: RunnerHooks,
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
    if (!this.child) {
      if (this.state !== "stopped" && this.state !== "failed" && this.state !== "exited") {
        this.state = "stopped";
        this.hooks.changed();
      }
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (this.state !== "stopping") {
      if (this.killTimer) clearTimeout(this.killTimer); // a failChild's grace: this stop's own replaces it
      this.state = "stopping";
      this.ready = false;
      this.cancelReadiness();
      const pid = this.pid!;
      this.hooks.event("stop", { pid });
      this.hooks.changed();
      signalOwnGroup(pid, this.definition.stopSignal as SignalName);
      this.killTimer = setTimeout(() => {
        this.hooks.log("warn", `${this.name}: still running ${formatDuration(this.definition.stopTimeout)} after ${this.definition.stopSignal}; sending SIGKILL to its process group`);
        signalOwnGroup(pid, "SIGKILL");
      }, this.definition.stopTimeout);
    }
    return done;
  }

  /**
   * Stops the child as a failure (an unhealthy daemon): stopSignal to its group, SIGKILL after
   * stopTimeout, as stop() does; but intent and state stay, and the restart policy decides on
   * its exit as on a crash's, counting it as a failure even if the child exits 0 on the signal.
   */
  failChild(why: string): void {
    if (!this.child || this.pid === null || this.state === "stopping" || this.failing) return;
    const pid = this.pid;
    this.failing = true;
    this.hooks.log("warn", `${this.name}: ${why}; stopping it with ${this.definition.stopSignal}`);
    signalOwnGroup(pid, this.definition.stopSignal as SignalName);
    this.killTimer = setTimeout(() => {
      this.hooks.log("warn", `${this.name}: still running ${formatDuration(this.definition.stopTimeout)} after ${this.definition.stopSignal}; sending SIGKILL to its process group`);
      signalOwnGroup(pid, "SIGKILL");
    }, this.definition.stopTimeout);
  }

  /** SIGKILL to the child's group now (grace expired, or a second shutdown signal). */
  kill(): void {
    if (this.pid !== null && this.child) signalOwnGroup(this.pid, "SIGKILL");
  }

  /** Forwards a signal to the child process itself, or with `group` to its whole process group. */
  signal(sig: SignalName, group = false): boolean {
    if (this.pid === null || this.child === null) return false;
    return group ? signalOwnGroup(this.pid, sig) : sendSignal(this.pid, sig);
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
  }

  /** The child's environment; exec readiness and health checks run with it too. */
  childEnv(): NodeJS.ProcessEnv {
    return { ...this.baseEnv, ...this.definition.env, [NAME_ENV]: this.name, [INVOCATION_ENV]: this.invocation ?? "" };
  }

  private spawnChild(): void {
    if (!this.prepareSpawn()) return;
    const child = this.launch();
    if (!child) return;
    this.adopt(child);
    this.watchExit(child);
    this.pipe(child.stdout, "stdout");
    this.pipe(child.stderr, "stderr");
    if (this.pid !== null) this.hooks.event("spawn", { pid: this.pid, restarts: this.restarts });
    this.hooks.changed();
    this.watchReadiness(child);
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
    const [file, ...args] = def.command;
    try {
      return spawnManaged(file!, args, {
        cwd: def.cwd,
        env: this.childEnv(),
        stdio: ["ignore", "pipe", "pipe"],
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
      onExit(code, null);
    });
    child.once("exit", onExit);
  }

  /** Starts the readiness check; a child not ready within readyTimeout is killed. */
  private watchReadiness(child: ChildProcess): void {
    const def = this.definition;
    this.readiness = startReadiness(def.ready, {
      cwd: def.cwd,
      env: this.childEnv(),
      isAlive: () => this.child === child && this.state === "starting",
      onReady: () => this.becomeReady(),
    });
    this.readyTimer = setTimeout(() => {
      if (this.child !== child || this.ready) return;
      this.hooks.log("error", `${this.name}: not ready within ${formatDuration(def.readyTimeout)} (${def.ready}); killing it`);
      this.cancelReadiness();
      if (this.pid) signalOwnGroup(this.pid, "SIGKILL");
    }, def.readyTimeout);
  }

  private becomeReady(): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = null;
    this.readiness = null;
    this.state = "running";
    this.ready = true;
    this.hooks.event("ready", { pid: this.pid });
    this.hooks.changed();
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

  private handleExit(child: ChildProcess, exit: ExitOutcome): void {
    if (this.child !== child) return;
    const pid = this.pid;
    this.child = null;
    this.cancelReadiness();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = null;
    // Whatever the leader left behind in its group (workers, `cmd &` from a shell) goes with it:
    // leftovers would hold ports and files and block the restart.
    if (pid) signalOwnGroup(pid, "SIGKILL");
    this.sink.flush("stdout");
    this.sink.flush("stderr");
    this.tapBuffers.stdout = this.tapBuffers.stderr = "";
    this.finishExit(exit, pid);
  }

  private finishExit(exit: ExitOutcome, pid: number | null = null): void {
    const failed = this.failing;
    this.failing = false;
    this.recordExit(exit, pid);
    if (this.state === "stopping") return this.settleStop();
    const hold = this.hooks.unexpectedExit?.(exit) === "hold";
    // A missing or non-executable file stays so: restarting would only loop until the start limit.
    if (!hold && this.execFailure !== null) return this.giveUp(exit, "a command that cannot be executed is not restarted");
    // Stopped as a failure: a clean exit on the stop signal is still one (on-failure restarts it).
    const asFailure = failed && exit.code === 0 && exit.signal === null ? { code: 1, signal: null } : exit;
    if (hold || !shouldRestart(this.definition.restart, asFailure)) {
      this.state = "exited";
      this.hooks.changed();
      return;
    }
    const now = Date.now();
    if (this.limiter.exhausted(now)) return this.giveUp(exit);
    this.scheduleRestart(exit, now);
  }

  private recordExit(exit: ExitOutcome, pid: number | null): void {
    this.pid = null;
    this.identity = null;
    this.invocation = null;
    this.ready = false;
    this.lastExit = { code: exit.code, signal: exit.signal, at: new Date().toISOString() };
    this.hooks.event("exit", { pid, code: exit.code, signal: exit.signal, restarts: this.restarts });
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
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.restarts++;
      this.hooks.event("restart", { restarts: this.restarts });
      this.spawnChild();
    }, delayMs);
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
