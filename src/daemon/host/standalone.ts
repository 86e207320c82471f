/**
 * A standalone host process: one DaemonHost, plus the process-level rules of
 * docs/run-intent.md#why-a-marker (exit codes: docs/status.md#other-commands-exit-codes).
 *
 * - SIGINT (Ctrl+C on a foreground host), a `stop` request, or TERM/HUP/QUIT with a planned-stop
 *   marker naming this process: planned. Intent becomes `stopped`; exit 0.
 * - TERM/HUP/QUIT without such a marker: unplanned (container restart, OOM killer, `kill`).
 *   Intent stays `running`; exit 128+N so a service manager revives us.
 * - The child ended for good (policy says no restart, or start limit): exit with its code.
 * - Another process took over our socket (we were frozen and reclaimed): stop the child, touch
 *   no files, exit.
 */
import type { SignalName } from "../../schema/common.ts";
import type { HostSpec } from "../../schema/host-spec.ts";
import { onSignal, signalNumber } from "../../platform/signals.ts";
import { DaemonHost } from "./host.ts";
import type { Logger } from "../../logger.ts";
import { sharingFor } from "../state/sharing.ts";
import { consumePlannedStopMarker } from "../state/intent.ts";
import { RotatingLog } from "../state/logfile.ts";
import { ensureDirs, daemonFiles } from "../state/paths.ts";
import { shellExitCode } from "../policy.ts";
import { logFileSink, stdioSink } from "./sinks.ts";
import { selfIdentity } from "../../platform/identity.ts";
import { watchOwnership } from "./ownership-watch.ts";

export type HostMode = "foreground" | "detached";

type Ending = { kind: "planned" } | { kind: "unplanned"; signal: SignalName } | { kind: "lost" } | { kind: "ended" };

/** Writes host diagnostics into the daemon's log file (a detached host has no terminal). */
export function fileLogger(log: RotatingLog, name: string): Logger {
  const line = (level: string) => (message: string) => log.write(`[daemonctl ${new Date().toISOString()} ${level}] ${message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message}\n`);
  return { debug: () => {}, info: line("info"), warn: line("warn"), error: line("error") };
}

export async function runStandaloneHost(spec: HostSpec, mode: HostMode, consoleLog: Logger | null, env: NodeJS.ProcessEnv): Promise<number> {
  const dirs = { runtimeDir: spec.runtimeDir, stateDir: spec.stateDir };
  const sharing = sharingFor(spec.socketMode ?? undefined, spec.gid ?? undefined);
  const files = daemonFiles(dirs, spec.name);
  const logFile = new RotatingLog(files.log, spec.definition.log.maxSize, spec.definition.log.maxFiles, sharing);
  const log = mode === "foreground" && consoleLog ? consoleLog : fileLogger(logFile, spec.name);

  let resolveEnding!: (e: Ending) => void;
  const ending = new Promise<Ending>((r) => (resolveEnding = r));
  let ended = false;
  let host: DaemonHost | null = null;
  const end = (e: Ending) => {
    if (ended) {
      // A second signal while stopping: no more patience.
      if (e.kind === "planned" || e.kind === "unplanned") host?.runner.kill();
      return;
    }
    ended = true;
    if (host) host.exiting = true;
    resolveEnding(e);
  };
  const self = { pid: process.pid, identity: selfIdentity() };
  // Installed before anything else: a signal during the bind guard must not kill us half-way.
  // Ctrl+C on a foreground host is an operator's stop; a detached host has no terminal, so a
  // SIGINT there is just another signal.
  const planned = mode === "foreground" ? (["SIGINT"] as const) : ([] as const);
  const checked = mode === "foreground" ? (["SIGTERM", "SIGHUP", "SIGQUIT"] as const) : (["SIGTERM", "SIGHUP", "SIGQUIT", "SIGINT"] as const);
  for (const sig of planned) onSignal(sig, () => end({ kind: "planned" }));
  for (const sig of checked) {
    onSignal(sig, () => end(consumePlannedStopMarker(files, self) ? { kind: "planned" } : { kind: "unplanned", signal: sig }));
  }

  try {
    ensureDirs(dirs, { mode: sharing.dirMode, gid: sharing.gid });
  } catch (e) {
    log.error((e as Error).message);
    return 1;
  }
  host = new DaemonHost({
    name: spec.name,
    definition: spec.definition,
    identity: spec.identity,
    dirs,
    supervised: false,
    sharing,
    probeTimeoutMs: spec.probeTimeoutMs,
    sink: mode === "foreground" ? stdioSink() : logFileSink(logFile),
    baseEnv: env,
    log,
    onStopRequest: () => end({ kind: "planned" }),
    onEvent: (h, { type }) => {
      if (type === "exit" || type === "failed") setImmediate(() => {
        if (h.runner.state === "exited" || h.runner.state === "failed") end({ kind: "ended" });
      });
    },
  });

  if (ended) host.exiting = true;
  const claiming = host.claim();
  const claim = await Promise.race([claiming, ending.then((e) => ({ kind: "interrupted" as const, e }))]);
  if (claim.kind === "interrupted") {
    // Signalled during the bind guard: if the bind completes promptly, undo it before leaving.
    const late = await Promise.race([claiming, new Promise<null>((r) => setTimeout(() => r(null), 2_000))]);
    if (late?.kind === "bound") await host.release();
    return claim.e.kind === "unplanned" ? 128 + signalNumber(claim.e.signal) : 0;
  }
  if (claim.kind === "already-running") {
    log.info(`${spec.name} is already running (pid ${claim.pid})${claim.reconciled ? "; repaired its metadata" : ""}`);
    return 0;
  }
  if (claim.kind === "supervised-elsewhere") {
    log.error(`${spec.name} is managed by a supervisor (pid ${claim.pid}); change it with \`daemonctl start ${spec.name}\` or \`restart\`, not --foreground`);
    return 1;
  }
  if (claim.kind === "error" || claim.kind === "busy") {
    log.error(claim.message);
    return 1;
  }
  log.debug(`${spec.name}: bound ${files.socket}`);
  host.begin();

  const unwatch = watchOwnership(dirs.runtimeDir, (name) => {
    if ((name === null || name === spec.name) && host!.checkOwnership() === "lost") end({ kind: "lost" });
  });
  const e = await ending;
  unwatch();
  return finish(host, e);
}

async function finish(host: DaemonHost, e: Ending): Promise<number> {
  switch (e.kind) {
    case "planned":
      host.setIntent("stopped");
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
