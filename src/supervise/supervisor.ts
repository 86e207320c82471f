/**
 * `daemonctl supervise`: container init for the daemons of a config file (docs/containers.md).
 *
 * One process, one DaemonHost per daemon: every daemon keeps its own control socket, metadata
 * and state, so `status/stop/start/restart/logs/events NAME` work from `docker exec` exactly as
 * for a standalone host. On top of the hosts this file adds what only an init does: boot
 * reconciliation, dependency order, prefixed output, signal handling, grace-bounded shutdown,
 * exit codes, and (with reaper.ts) zombie reaping.
 */
import type { Writable } from "node:stream";
import type { ResolvedDefinition } from "../daemon/definition/source.ts";
import { DaemonHost } from "../daemon/host/host.ts";
import { ProtocolError } from "../daemon/wire/server.ts";
import type { ReloadResult } from "../schema/protocol.ts";
import type { SupervisionPlan } from "./plan.ts";
import { forgetDaemonFiles } from "../daemon/owner/forget.ts";
import type { Logger } from "../logger.ts";
import type { Sharing } from "../daemon/state/sharing.ts";
import { bootAction, describeReconcile, priorOf, readState } from "../daemon/state/intent.ts";
import { RotatingLog } from "../daemon/state/logfile.ts";
import { daemonFiles, ensureDirs, type Dirs } from "../daemon/state/paths.ts";
import { watchOwnership } from "../daemon/host/ownership-watch.ts";
import { cleanExit, shellExitCode, type ExitOutcome } from "../daemon/policy.ts";
import { logFileSink, teeSink } from "../daemon/host/sinks.ts";
import { armSignals, FORWARDABLE, type SignalSource } from "../platform/signals.ts";
import { collectGarbage } from "../platform/runtime.ts";
import { spawnManaged } from "../platform/spawn.ts";
import { formatDuration, signalNumber, type SignalName } from "../schema/units.ts";
import type { DaemonEvent } from "../schema/event.ts";
import type { Status } from "../schema/status.ts";
import { isOneshot } from "../schema/definition.ts";
import { prefixSink } from "./output.ts";
import { Reaper, takeInitDuties } from "./reaper.ts";

export interface SuperviseOptions {
  definitions: ResolvedDefinition[];
  /** Start levels from order.ts (`dependsOn`). */
  levels: string[][];
  dirs: Dirs;
  sharing: Sharing;
  graceMs: number;
  logFormat: "text" | "json";
  colour: { stdout: boolean; stderr: boolean };
  probeTimeoutMs: number;
  /** tini -s / TINI_SUBREAPER: not becoming a child subreaper is an error. */
  requireSubreaper?: boolean;
  /** tini -p: the signal we get when our parent dies, handled as if sent. */
  parentDeathSignal?: SignalName | null;
  /** tini -w: a warning per orphan reaped. */
  warnOnReap?: boolean;
  /**
   * Reads the config again and plans from it (SIGHUP, `daemonctl reload`); throws a UsageError
   * when the new config is invalid. Without it a reload is refused.
   */
  replan?: () => SupervisionPlan;
  env: NodeJS.ProcessEnv;
  log: Logger;
  out?: { stdout: Writable; stderr: Writable };
}

const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;
/**
 * Passed on to every daemon: all the rest but PIPE (ours) and the job-control stops, which keep
 * their default so a supervisor in a terminal stops on Ctrl+Z. (HUP reloads the config here.)
 */
const FORWARDED: SignalName[] = [
  "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGALRM", "SIGURG", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGIO", "SIGCONT",
  "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV", "SIGSYS", "SIGSTKFLT", "SIGPWR",
];
const NOTIFY_TIMEOUT_MS = 30_000;
/** A shutdown signal this soon after the first is the same request delivered twice. */
const SAME_SIGNAL_MS = 500;

type Ending = "self" | "operator" | null;

export class Supervisor {
  private readonly hosts = new Map<string, DaemonHost>();
  private readonly deps = new Map<string, string[]>();
  /** Daemons that should start as soon as their dependencies are ready. */
  private readonly waiting = new Set<string>();
  private readonly waitingNoted = new Set<string>();
  /** Daemons started in this run, and how each last ended (null: it has not). */
  private readonly ended = new Map<string, Ending>();
  /** Daemons spawned at least once in this run: a later spawn is a restart their dependents hear of. */
  private readonly spawned = new Set<string>();
  private readonly reaper: Reaper;
  private shuttingDown = false;
  /**
   * Each daemon's contribution from its latest exit. A spawn clears it: the exit status
   * describes how things ended, not a crash that a restart has since repaired.
   */
  private readonly lastCodes = new Map<string, number>();
  private forcedCode: number | null = null;
  private finish!: (code: number) => void;
  private readonly finished = new Promise<number>((r) => (this.finish = r));
  private unwatch: (() => void) | null = null;
  private prefixWidth = 0;
  /** Hosts created so far: each new one takes the next prefix colour. */
  private created = 0;
  /** Start levels and grace: from the config, and again from each reload. */
  private levels: string[][];
  private graceMs: number;
  /** Reloads are applied one after another, never interleaved; the shutdown waits for them. */
  private reloads: Promise<void> = Promise.resolve();
  /** What runs once every queued reload is applied: the base each new reload is planned against. */
  private target: Map<string, { definitionIdentity: string }>;
  /** Daemons a reload is taking away: their events no longer count. */
  private readonly removing = new Set<string>();

  constructor(private readonly o: SuperviseOptions) {
    this.levels = o.levels;
    this.graceMs = o.graceMs;
    this.target = new Map(o.definitions.map((d) => [d.name, { definitionIdentity: d.identity }]));
    this.reaper = new Reaper(o.warnOnReap ? (pid) => o.log.warn(`reaped zombie process ${pid}`) : undefined);
  }

  async run(): Promise<number> {
    const signals = await this.armSignals();
    if (!(await takeInitDuties(this.reaper, this.o, this.o.log))) return 1;
    ensureDirs(this.o.dirs, { mode: this.o.sharing.dirMode, gid: this.o.sharing.gid });
    this.createHosts();
    if (!(await this.claimSockets())) return 1;
    if (this.shuttingDown) return this.finished;
    // Only now, with every host bound: a SIGTERM held since start then shuts them down cleanly.
    this.listenSignals(signals);
    this.bootReconcile();
    this.startWaiting();
    this.unwatch = watchOwnership(this.o.dirs.runtimeDir, (name) => this.checkOwnership(name));
    setTimeout(collectGarbage, 2_000).unref?.();
    return this.finished;
  }

  /** Each supervised daemon's status as its host sees itself (for `--metrics`; no I/O). */
  statuses(): Status[] {
    return [...this.hosts.values()].map((h) => h.status());
  }

  /**
   * Every daemon's bind guard, all at once. A daemon run outside this supervisor is left to its
   * owner and dropped from ours; any error undoes every bind and fails the boot.
   */
  private async claimSockets(): Promise<boolean> {
    if (await this.claim([...this.hosts.keys()])) return true;
    await this.abort();
    return false;
  }

  /**
   * The bind guard of these hosts, all at once; hosts that are not ours are dropped. False when
   * one could not be claimed (logged).
   */
  private async claim(names: string[]): Promise<boolean> {
    const claims = await Promise.all(names.map(async (name) => [name, await this.hosts.get(name)!.claim()] as const)).catch((e: Error) => {
      this.o.log.error(e.message);
      return null;
    });
    if (!claims) return false;
    let ok = true;
    for (const [name, c] of claims) {
      if (c.kind === "bound") continue;
      this.hosts.delete(name);
      if (c.kind === "error") {
        this.o.log.error(`${name}: ${c.message}`);
        ok = false;
      } else if (c.kind === "busy") this.o.log.warn(`${c.message}, outside this supervisor`);
      else this.o.log.warn(`${name} is already run by pid ${c.pid} outside this supervisor; leaving it alone`);
    }
    return ok;
  }

  private createHosts(): void {
    this.prefixWidth = Math.max(...this.o.definitions.map((d) => d.name.length)) + 2;
    for (const d of this.o.definitions) this.createHost(d);
  }

  private createHost(d: ResolvedDefinition): DaemonHost {
    const out = this.o.out ?? { stdout: process.stdout, stderr: process.stderr };
    const files = daemonFiles(this.o.dirs, d.name);
    const logFile = new RotatingLog(files.log, d.definition.log.maxSize, d.definition.log.maxFiles, this.o.sharing, true);
    const sink = teeSink(prefixSink(d.name, out, { width: this.prefixWidth, colourIndex: this.created++, colour: this.o.colour, format: this.o.logFormat }), logFileSink(logFile));
    this.deps.set(d.name, d.definition.dependsOn);
    const host = new DaemonHost({
      name: d.name,
      definition: d.definition,
      identity: d.identity,
      dirs: this.o.dirs,
      supervised: true,
      sharing: this.o.sharing,
      probeTimeoutMs: this.o.probeTimeoutMs,
      sink,
      baseEnv: this.o.env,
      log: this.o.log,
      onEvent: (h, event) => this.onEvent(h, event),
      unexpectedExit: (h, exit) => this.onUnexpectedExit(h, exit),
      onReload: this.o.replan ? (dryRun) => this.reload(dryRun) : undefined,
    });
    this.hosts.set(d.name, host);
    return host;
  }

  /**
   * Reconcile at boot (docs/run-intent.md#daemonctl-reconcile), by the same rule as `reconcile`
   * (state/intent.ts `bootAction`): restores what was recorded and starts nothing yet.
   */
  private bootReconcile(): void {
    for (const [name, h] of this.hosts) this.bootOne(name, h);
  }

  private bootOne(name: string, h: DaemonHost): void {
    const st = readState(h.files);
    const action = bootAction(st, h.def.autostart);
    if (action === "left-down") h.restore("stopped", null);
    else if (action === "skipped-failed") h.restore("running", { lastExit: st!.lastExit, restarts: st!.restarts });
    else {
      h.begin(false);
      this.waiting.add(name);
    }
    this.o.log.info(describeReconcile({ name, prior: priorOf(st), action: action === "start" ? "started" : action }, true));
  }

  /** Starts every waiting daemon whose dependencies (among those we supervise) are ready, or done. */
  private startWaiting(): void {
    if (this.shuttingDown) return;
    for (const name of [...this.waiting]) {
      // A start below emits events that re-enter here and may have handled this one already.
      if (!this.waiting.has(name)) continue;
      const h = this.hosts.get(name);
      if (!h || h.intent !== "running" || h.runner.isActive()) {
        this.waiting.delete(name);
        continue;
      }
      const blockers = (this.deps.get(name) ?? []).filter((d) => this.hosts.has(d) && !this.hosts.get(d)!.runner.satisfiesDependents());
      if (blockers.length) {
        if (!this.waitingNoted.has(name)) {
          this.waitingNoted.add(name);
          this.o.log.info(`${name} waits for ${blockers.map((b) => (isOneshot(this.hosts.get(b)!.def) ? `${b} to be done` : `${b} to be ready`)).join(", ")}`);
        }
        continue;
      }
      this.waiting.delete(name);
      this.waitingNoted.delete(name);
      this.ended.set(name, null);
      h.startChild();
    }
  }

  private onEvent(h: DaemonHost, event: DaemonEvent): void {
    const { name, type } = event;
    if (this.removing.has(name)) return;
    if (type === "spawn") {
      this.ended.set(name, null);
      this.lastCodes.delete(name);
      if (this.spawned.has(name)) this.dependencyRestarted(name);
      this.spawned.add(name);
    }
    if (type === "ready" || type === "done") this.startWaiting();
    if (type === "backoff") this.o.log.info(`${name} restarts in ${formatDuration(event.delayMs ?? 0)}`);
    if (type === "exit") {
      const planned = h.runner.state === "stopping";
      const exit: ExitOutcome = { code: event.code, signal: event.signal };
      const code = this.accountedCode(h, exit, planned);
      // A clean exit 0 is no problem: what follows (restart, or stay down) is the policy's.
      if (!planned && cleanExit(exit)) this.o.log.info(isOneshot(h.def) ? `${name} is done (code 0)` : `${name} exited cleanly (code 0)`);
      else if (!planned) this.o.log.warn(`${name} exited (${exit.signal ? `killed by ${exit.signal}` : `code ${exit.code}`})`);
      this.lastCodes.set(name, code);
      this.ended.set(name, planned && !this.shuttingDown ? "operator" : "self");
    }
    if ((type === "exit" || type === "failed") && h.def.notify) this.runNotify(h, event);
    // The runner settles its next state right after the event; look once it has.
    if (type === "exit" || type === "failed" || type === "stop" || type === "done") setImmediate(() => this.exitIfAllEnded());
  }

  /**
   * `name` was started again (its policy, a restart, a watchdog or health check): its dependents
   * hear of it, and those with `restartWith` follow it down and come back once it is up again.
   */
  private dependencyRestarted(name: string): void {
    if (this.shuttingDown) return;
    for (const [dependent, deps] of this.deps) {
      const h = this.hosts.get(dependent);
      if (!h || !deps.includes(name)) continue;
      h.announce("dependency-restart", { message: name });
      if (!h.def.restartWith || h.intent !== "running" || !h.runner.isActive()) continue;
      this.o.log.info(`${dependent} restarts with ${name} (restartWith)`);
      void h.runner.stop().then(() => {
        if (this.shuttingDown || h.intent !== "running") return;
        // Not an operator's stop: if the dependency never comes back, this must not keep us up.
        this.ended.set(dependent, null);
        this.waiting.add(dependent);
        this.startWaiting();
      });
    }
  }

  /**
   * A child's contribution to the supervisor's exit code. Deaths by the shutdown's own signals
   * count as 0; a crash before the shutdown keeps its code.
   */
  private accountedCode(h: DaemonHost, exit: ExitOutcome, planned: boolean): number {
    const code = shellExitCode(exit);
    if (!planned) return code;
    if (exit.signal !== null) return 0;
    const stopNo = signalNumber(h.def.stopSignal as SignalName);
    return code === 128 + stopNo || code === 137 ? 0 : code;
  }

  private worstCode(): number {
    return Math.max(0, ...this.lastCodes.values());
  }

  private onUnexpectedExit(h: DaemonHost, exit: ExitOutcome): "policy" | "hold" {
    // Once shutting down, nothing restarts: a daemon killed before its turn stays down.
    if (this.shuttingDown) return "hold";
    if (h.def.onExit !== "shutdown") return "policy";
    this.forcedCode = shellExitCode(exit);
    this.o.log.warn(`${h.name} has onExit "shutdown": stopping everything (exit code ${this.forcedCode})`);
    setImmediate(() => void this.shutdown(`${h.name} exited`));
    return "hold";
  }

  /** Exit once every daemon we started has ended on its own with nothing pending. */
  private exitIfAllEnded(): void {
    if (this.shuttingDown || this.ended.size === 0) return;
    for (const [name, h] of this.hosts) {
      if (h.runner.isActive()) return;
      if (this.ended.get(name) === "operator") return;
      if (this.waiting.has(name) && h.intent === "running" && this.dependenciesCanStart(name)) return;
    }
    this.o.log.info(`every daemon has ended; exiting with code ${this.worstCode()}`);
    void this.shutdown("all daemons ended");
  }

  private dependenciesCanStart(name: string): boolean {
    return (this.deps.get(name) ?? []).every((d) => !this.hosts.has(d) || this.hosts.get(d)!.runner.isActive() || this.hosts.get(d)!.runner.satisfiesDependents());
  }

  private runNotify(h: DaemonHost, event: DaemonEvent): void {
    const [cmd, ...args] = h.def.notify!;
    const env = {
      ...this.o.env,
      DAEMONCTL_EVENT: JSON.stringify(event),
      DAEMONCTL_EVENT_TYPE: event.type,
      DAEMONCTL_EVENT_NAME: h.name,
      DAEMONCTL_EVENT_CODE: event.code === null ? "" : String(event.code),
      DAEMONCTL_EVENT_SIGNAL: event.signal ?? "",
    };
    try {
      const child = spawnManaged(cmd!, args, { env, cwd: h.def.cwd, stdio: ["ignore", "inherit", "inherit"] });
      const timer = setTimeout(() => child.kill("SIGKILL"), NOTIFY_TIMEOUT_MS);
      child.once("exit", () => clearTimeout(timer));
      child.once("error", (e) => this.o.log.warn(`${h.name}: notify command failed: ${e.message}`));
    } catch (e) {
      this.o.log.warn(`${h.name}: notify command failed: ${(e as Error).message}`);
    }
  }

  /** Signals come through the trap armed at start (platform/signals.ts), held until we listen. */
  private async armSignals(): Promise<SignalSource> {
    const source = await armSignals(FORWARDABLE);
    const wanted = new Set<SignalName>([...SHUTDOWN_SIGNALS, ...FORWARDED, "SIGHUP"]);
    for (const sig of FORWARDABLE) if (!wanted.has(sig)) source.release(sig);
    const lost = source.unwatched();
    if (lost.length) this.o.log.warn(`${lost.join(", ")} cannot be received here (${source.note}); they will not be forwarded`);
    return source;
  }

  private listenSignals(source: SignalSource): void {
    const forwarded = new Set<SignalName>(FORWARDED);
    let firstAt = 0;
    source.listen((sig) => {
      if (sig === "SIGHUP") return this.reloadOnHangup();
      if (forwarded.has(sig)) {
        for (const h of this.hosts.values()) h.runner.signal(sig);
        return;
      }
      // One Ctrl+C often arrives twice: from the terminal to the whole foreground group, and
      // again from a wrapper that forwards it (npm, a shell script). Only a later one is a
      // second request.
      if (this.shuttingDown && Date.now() - firstAt < SAME_SIGNAL_MS) return;
      if (this.shuttingDown && (sig === "SIGINT" || sig === "SIGTERM")) {
        this.o.log.warn(`second ${sig}: killing every daemon now`);
        this.killAll();
        return;
      }
      firstAt = Date.now();
      void this.shutdown(sig);
    });
  }

  /** SIGHUP: reload, as most daemons do on it; what happened goes to the log. */
  private reloadOnHangup(): void {
    if (this.shuttingDown) return;
    this.o.log.info("SIGHUP: reloading the config");
    this.reload(false).catch(() => {}); // reload() has logged why
  }

  private checkOwnership(only: string | null): void {
    for (const [name, h] of this.hosts) {
      if (only !== null && only !== name) continue;
      if (h.checkOwnership() === "lost") {
        this.hosts.delete(name);
        void h.stopChild().then(() => h.release());
      }
    }
  }

  private killAll(): void {
    for (const h of this.hosts.values()) h.runner.kill();
  }

  /**
   * Graceful shutdown: stop signals in reverse dependency order, each level waiting for the one
   * before, SIGKILL to every remaining process group when the grace period ends. Intent is left
   * as it is: a container stop is not an operator's stop.
   */
  private async shutdown(reason: string): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.waiting.clear();
    for (const h of this.hosts.values()) h.exiting = true; // a start now would outlive us
    this.unwatch?.();
    const active = [...this.hosts.values()].filter((h) => h.runner.hasChild());
    if (reason.startsWith("SIG")) this.o.log.info(`${reason}: stopping ${active.length} daemon${active.length === 1 ? "" : "s"} (grace ${formatDuration(this.graceMs)})`);
    const grace = setTimeout(() => {
      const left = [...this.hosts.values()].filter((h) => h.runner.hasChild()).map((h) => h.name);
      if (left.length) this.o.log.warn(`grace period over; SIGKILL to ${left.join(", ")}`);
      this.killAll();
    }, this.graceMs);
    const graceOver = new Promise<void>((r) => setTimeout(r, this.graceMs).unref?.());
    for (const level of [...this.levels].reverse()) {
      const stops = level.map((n) => this.hosts.get(n)?.stopChild()).filter(Boolean);
      await Promise.race([Promise.all(stops), graceOver]);
    }
    await Promise.all([...this.hosts.values()].map((h) => h.stopChild()));
    // A reload being applied stops at its next step; hosts it created meanwhile are stopped too.
    await this.reloads;
    await Promise.all([...this.hosts.values()].map((h) => h.stopChild()));
    clearTimeout(grace);
    await Promise.all([...this.hosts.values()].map((h) => h.release()));
    this.reaper.sweep();
    this.reaper.stop();
    this.finish(this.forcedCode ?? this.worstCode());
  }

  /**
   * `daemonctl reload` or SIGHUP (docs/containers.md#reloading-the-config): read the config
   * again and apply the difference. Added daemons are started (by the boot rule: recorded intent,
   * else `autostart`), removed ones stopped and forgotten, changed ones restarted with their new
   * definition, unchanged ones left alone (same pid). An invalid config changes nothing.
   */
  reload(dryRun: boolean): Promise<ReloadResult> {
    if (this.shuttingDown || !this.o.replan) return Promise.reject(new ProtocolError("exiting", "the supervisor is shutting down; nothing was reloaded"));
    let plan: SupervisionPlan;
    try {
      plan = this.o.replan();
    } catch (e) {
      const message = (e as Error).message;
      this.o.log.error(`reload: the new config is invalid; nothing changed:\n${message}`);
      return Promise.reject(new ProtocolError("bad-config", message));
    }
    // Against what runs once the reloads already queued are applied: each answer describes the
    // step it adds, and the request is answered before anything it changes can close its socket.
    const diff = diffPlan(this.target, plan.definitions);
    const result: ReloadResult = { dryRun, added: diff.added.map((d) => d.name), removed: diff.removed, changed: diff.changed.map((d) => d.name), unchanged: diff.unchanged };
    if (dryRun) return Promise.resolve(result);
    this.target = new Map(plan.definitions.map((d) => [d.name, { definitionIdentity: d.identity }]));
    this.o.log.info(`reload: ${describeReload(result)}`);
    this.reloads = this.reloads.then(() => this.applyPlan(plan)).catch((e: Error) => this.o.log.error(`reload: ${e.message}`));
    return Promise.resolve(result);
  }

  /** One reload, applied after the ones before it. A shutdown meanwhile cuts it short. */
  private async applyPlan(plan: SupervisionPlan): Promise<void> {
    if (this.shuttingDown) return;
    const diff = diffPlan(this.hosts, plan.definitions);
    await this.removeDaemons(diff.removed);
    if (this.shuttingDown) return;
    this.levels = plan.levels;
    this.graceMs = plan.graceMs;
    await Promise.all(diff.changed.map((d) => this.changeDaemon(d)));
    if (this.shuttingDown) return;
    await this.addDaemons(diff.added);
    if (this.shuttingDown) return;
    this.startWaiting();
  }

  /**
   * Stopped in reverse dependency order, then forgotten (state, logs, sockets), as by `delete`.
   * They stay among the hosts until stopped, so a shutdown meanwhile stops them too; their
   * events no longer count (a removed daemon is no part of the exit code).
   */
  private async removeDaemons(names: string[]): Promise<void> {
    if (!names.length) return;
    for (const name of names) {
      this.removing.add(name);
      this.hosts.get(name)!.exiting = true;
    }
    const order = [...this.levels].reverse().flat().filter((n) => names.includes(n));
    for (const name of [...order, ...names.filter((n) => !order.includes(n))]) {
      const h = this.hosts.get(name);
      if (!h) continue;
      await h.stopChild();
      this.hosts.delete(name);
      for (const set of [this.deps, this.ended, this.lastCodes]) set.delete(name);
      for (const set of [this.waiting, this.waitingNoted, this.spawned, this.removing]) set.delete(name);
      await h.release();
      // Under the daemon's locks, as `delete` does: a `start NAME` racing the reload keeps its
      // own lock files and socket.
      const forgot = await forgetDaemonFiles(this.o.dirs, name, this.o.probeTimeoutMs, "supervisor");
      if (forgot.kind === "locked") this.o.log.warn(`${name}: removed from the config, but ${forgot.path} stayed locked; its files are left`);
      if (forgot.kind === "started-again") this.o.log.warn(`${name}: removed from the config, but a \`daemonctl start ${name}\` runs it now; left running`);
    }
  }

  /**
   * A new definition: a running child is stopped, and the daemon waits to be started again with
   * it in dependency order (its new `dependsOn` may name a daemon this very reload adds). One
   * that had ended (failed, done, exited) runs again too, unless an operator stopped it.
   */
  private async changeDaemon(d: ResolvedDefinition): Promise<void> {
    const h = this.hosts.get(d.name)!;
    this.deps.set(d.name, d.definition.dependsOn);
    await h.replaceDefinition(d.definition, d.identity, { restart: false });
    if (h.intent === "running" && !h.runner.isActive()) this.waiting.add(d.name);
  }

  private async addDaemons(added: ResolvedDefinition[]): Promise<void> {
    if (!added.length) return;
    this.prefixWidth = Math.max(this.prefixWidth, ...added.map((d) => d.name.length + 2));
    for (const d of added) this.createHost(d);
    await this.claim(added.map((d) => d.name));
    for (const d of added) {
      const h = this.hosts.get(d.name);
      if (h) this.bootOne(d.name, h);
    }
  }

  /** A daemon could not be set up: undo what was bound and leave. */
  private async abort(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.hosts.values()].map((h) => h.release()));
    this.reaper.stop();
  }
}

/** Added, removed, changed and unchanged daemons between what runs and a new plan. */
function diffPlan(
  running: Map<string, { definitionIdentity: string }>,
  planned: ResolvedDefinition[],
): { added: ResolvedDefinition[]; removed: string[]; changed: ResolvedDefinition[]; unchanged: string[] } {
  const names = new Set(planned.map((d) => d.name));
  return {
    added: planned.filter((d) => !running.has(d.name)),
    removed: [...running.keys()].filter((n) => !names.has(n)),
    changed: planned.filter((d) => running.has(d.name) && running.get(d.name)!.definitionIdentity !== d.identity),
    unchanged: planned.filter((d) => running.get(d.name)?.definitionIdentity === d.identity).map((d) => d.name),
  };
}

function describeReload(r: ReloadResult): string {
  const parts = [
    r.added.length ? `adding ${r.added.join(", ")}` : "",
    r.removed.length ? `removing ${r.removed.join(", ")}` : "",
    r.changed.length ? `restarting ${r.changed.join(", ")} (changed)` : "",
    r.unchanged.length ? `leaving ${r.unchanged.join(", ")} as ${r.unchanged.length === 1 ? "it is" : "they are"}` : "",
  ].filter(Boolean);
  return parts.length ? parts.join("; ") : "nothing to do";
}

/** Every file a removed daemon left (state, logs, metadata, locks): it is forgotten, as by `delete`. */

