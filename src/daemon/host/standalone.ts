/**
 * A standalone host process: one DaemonHost, plus the process-level rules of
 * docs/run-intent.md#why-a-marker (exit codes: docs/status.md#other-commands-exit-codes).
 *
 * - SIGINT (Ctrl+C on a foreground host), a `stop` request, or TERM/HUP/QUIT with a planned-stop
 *   marker naming this process: planned. Intent becomes `stopped` (an operator's stop; a
 *   restart's or replacement's leaves it to the start that follows); exit 0.
 * - TERM/HUP/QUIT without such a marker: unplanned (container restart, OOM killer, `kill`).
 *   Intent stays `running`; exit 128+N so a service manager revives us.
 * - The child ended for good (policy says no restart, or start limit; a oneshot done): exit with its code.
 * - Another process took over our socket (we were frozen and reclaimed): stop the child, touch
 *   no files, exit.
 */
import type { SignalName } from "../../schema/common.ts";
import type { HostSpec } from "../../schema/host-spec.ts";
import { onSignal, signalNumber } from "../../platform/signals.ts";
import { DaemonHost } from "./host.ts";
import type { ClaimOutcome } from "./bind-guard.ts";
import type { Logger } from "../../logger.ts";
import { sharingFor, type Sharing } from "../state/sharing.ts";
import { consumePlannedStopMarker } from "../state/intent.ts";
import { RotatingLog } from "../state/logfile.ts";
import { ensureDirs, daemonFiles, type DaemonFiles, type Dirs } from "../state/paths.ts";
import { shellExitCode } from "../policy.ts";
import { logFileSink, stdioSink } from "./sinks.ts";
import { selfIdentity } from "../../platform/identity.ts";
import { watchOwnership } from "./ownership-watch.ts";
import { trace } from "../../trace.ts";

export type HostMode = "foreground" | "detached";

/**
 * `planned` with `keepIntent`: a restart's or replacement's stop; the start that follows (the
 * restart's, or a successor with another definition) records intent, not this operator-less stop.
 */
type Ending = { kind: "planned"; keepIntent?: boolean } | { kind: "unplanned"; signal: SignalName } | { kind: "lost" } | { kind: "ended" };

/** Writes host diagnostics into the daemon's log file (a detached host has no terminal). */
export function fileLogger(log: RotatingLog, name: string): Logger {
  const line = (level: string) => (message: string) => log.write(`[daemonctl ${new Date().toISOString()} ${level}] ${message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message}\n`);
  return { debug: () => {}, info: line("info"), warn: line("warn"), error: line("error") };
}

export async function runStandaloneHost(spec: HostSpec, mode: HostMode, consoleLog: Logger | null, env: NodeJS.ProcessEnv): Promise<number> {
  const setup = hostSetup(spec, mode, consoleLog);
  const ending = new EndingLatch();
  trapSignals(mode, setup.files, ending);
  if (!prepareDirs(setup)) return 1;
  const host = ending.attach(createHost(spec, mode, env, setup, ending));
  trace("host: claiming");
  const refused = await claimOrLeave(host, spec.name, setup.log, ending);
  trace("host: bound");
  if (refused !== null) return refused;
  setup.log.debug(`${spec.name}: bound ${setup.files.socket}`);
  host.begin();
  trace("host: begun");
  return finish(host, await serveUntilEnd(host, spec.name, setup.dirs.runtimeDir, ending));
}

/** The host's files, and where its diagnostics go. */
interface HostSetup {
  dirs: Dirs;
  sharing: Sharing;
  files: DaemonFiles;
  logFile: RotatingLog;
  log: Logger;
}

function hostSetup(spec: HostSpec, mode: HostMode, consoleLog: Logger | null): HostSetup {
  const dirs = { runtimeDir: spec.runtimeDir, stateDir: spec.stateDir };
  const sharing = sharingFor(spec.socketMode ?? undefined, spec.gid ?? undefined);
  const files = daemonFiles(dirs, spec.name);
  const logFile = new RotatingLog(files.log, spec.definition.log.maxSize, spec.definition.log.maxFiles, sharing, true);
  const log = mode === "foreground" && consoleLog ? consoleLog : fileLogger(logFile, spec.name);
  return { dirs, sharing, files, logFile, log };
}

/** The first reason to end wins; later ones can only hurry the child along. */
class EndingLatch {
  readonly settled: Promise<Ending>;
  private resolve!: (e: Ending) => void;
  private ended = false;
  private host: DaemonHost | null = null;

  constructor() {
    this.settled = new Promise<Ending>((r) => (this.resolve = r));
  }

  /** From now on an ending also stops the host taking requests that would outlive it. */
  attach(host: DaemonHost): DaemonHost {
    this.host = host;
    if (this.ended) host.exiting = true;
    return host;
  }

  end(e: Ending): void {
    if (this.ended) {
      // A second signal while stopping: no more patience.
      if (e.kind === "planned" || e.kind === "unplanned") this.host?.runner.kill();
      return;
    }
    this.ended = true;
    if (this.host) this.host.exiting = true;
    this.resolve(e);
  }
}

/**
 * Installed before anything else: a signal during the bind guard must not kill us half-way.
 * Ctrl+C on a foreground host is an operator's stop; a detached host has no terminal, so a
 * SIGINT there is just another signal.
 */
function trapSignals(mode: HostMode, files: DaemonFiles, ending: EndingLatch): void {
  const self = { pid: process.pid, identity: selfIdentity() };
  const planned = mode === "foreground" ? (["SIGINT"] as const) : ([] as const);
  const checked = mode === "foreground" ? (["SIGTERM", "SIGHUP", "SIGQUIT"] as const) : (["SIGTERM", "SIGHUP", "SIGQUIT", "SIGINT"] as const);
  for (const sig of planned) onSignal(sig, () => ending.end({ kind: "planned" }));
  for (const sig of checked) {
    onSignal(sig, () => {
      const marker = consumePlannedStopMarker(files, self);
      ending.end(marker ? { kind: "planned", keepIntent: marker.reason !== "stop" } : { kind: "unplanned", signal: sig });
    });
  }
}

function prepareDirs(setup: HostSetup): boolean {
  try {
    ensureDirs(setup.dirs, { mode: setup.sharing.dirMode, gid: setup.sharing.gid });
    return true;
  } catch (e) {
    setup.log.error((e as Error).message);
    return false;
  }
}

function createHost(spec: HostSpec, mode: HostMode, env: NodeJS.ProcessEnv, setup: HostSetup, ending: EndingLatch): DaemonHost {
  return new DaemonHost({
    name: spec.name,
    definition: spec.definition,
    identity: spec.identity,
    dirs: setup.dirs,
    supervised: false,
    sharing: setup.sharing,
    probeTimeoutMs: spec.probeTimeoutMs,
    sink: mode === "foreground" ? stdioSink() : logFileSink(setup.logFile),
    baseEnv: env,
    log: setup.log,
    onStopRequest: (reason) => ending.end({ kind: "planned", keepIntent: reason !== "stop" }),
    onEvent: (h, { type }) => {
      // The runner settles its next state right after the event; look once it has.
      // A oneshot's host has nothing left to serve once the task is done: its state file says so.
      // Done is final at once: from now on a `start` request is refused (`exiting`), never run
      // by a host on its way out.
      if (type === "done") return ending.end({ kind: "ended" });
      if (type === "exit" || type === "failed") setImmediate(() => {
        if (h.runner.state === "exited" || h.runner.state === "failed" || h.runner.state === "done") ending.end({ kind: "ended" });
      });
    },
  });
}

/** Runs the bind guard. Null once the socket is ours; otherwise the exit code to leave with. */
async function claimOrLeave(host: DaemonHost, name: string, log: Logger, ending: EndingLatch): Promise<number | null> {
  const claiming = host.claim();
  const claim = await Promise.race([claiming, ending.settled.then((e) => ({ kind: "interrupted" as const, e }))]);
  if (claim.kind === "interrupted") return leaveMidClaim(host, claiming, claim.e);
  return claimRefusal(name, claim, log);
}

/** Signalled during the bind guard: if the bind completes promptly, undo it before leaving. */
async function leaveMidClaim(host: DaemonHost, claiming: Promise<ClaimOutcome>, e: Ending): Promise<number> {
  const late = await Promise.race([claiming, new Promise<null>((r) => setTimeout(() => r(null), 2_000))]);
  if (late?.kind === "bound") await host.release();
  return e.kind === "unplanned" ? 128 + signalNumber(e.signal) : 0;
}

/** Why we may not host this daemon, said and turned into an exit code; null when bound. */
function claimRefusal(name: string, claim: ClaimOutcome, log: Logger): number | null {
  switch (claim.kind) {
    case "bound":
      return null;
    case "already-running":
      log.info(`${name} is already running (pid ${claim.pid})${claim.reconciled ? "; repaired its metadata" : ""}`);
      return 0;
    case "supervised-elsewhere":
      log.error(`${name} is managed by a supervisor (pid ${claim.pid}); change it with \`daemonctl start ${name}\` or \`restart\`, not --foreground`);
      return 1;
    case "error":
    case "busy":
      log.error(claim.message);
      return 1;
  }
}

/**
 * Serves until the first reason to end. Meanwhile, a process that reclaimed our socket while we
 * were frozen is our successor: we must notice it and leave its files alone.
 */
async function serveUntilEnd(host: DaemonHost, name: string, runtimeDir: string, ending: EndingLatch): Promise<Ending> {
  const unwatch = watchOwnership(runtimeDir, (changed) => {
    if ((changed === null || changed === name) && host.checkOwnership() === "lost") ending.end({ kind: "lost" });
  });
  const e = await ending.settled;
  unwatch();
  return e;
}

async function finish(host: DaemonHost, e: Ending): Promise<number> {
  switch (e.kind) {
    case "planned":
      if (!e.keepIntent) host.setIntent("stopped");
      await host.stopChild();
      await host.release();
      return 0;
    case "unplanned":
      await host.stopChild();
      await host.release();
      return 128 + signalNumber(e.signal);
    case "lost":
      await host.stopChild();
      await host.release();
      return 0;
    case "ended": {
      await host.release();
      const last = host.runner.lastExit;
      const code = last ? shellExitCode(last) : 0;
      return host.runner.state === "failed" && code === 0 ? 1 : code;
    }
  }
}
