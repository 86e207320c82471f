/** `daemonctl supervise`: container init, for the daemons of a config file or for one command. */
import type { Logger } from "../logger.ts";
import { withoutHostSpec } from "../schema/host-spec.ts";
import { CliError, UsageError } from "../errors.ts";
import type { Status } from "../schema/status.ts";
import { badValue, bool, count, list, parseArgv, str, type ParsedArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { fullContext } from "./_context.ts";
import { createLogger } from "./_log.ts";
import { colourAllowed, durationFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";
import { procfileFlags, procfileFromFlags, type LoadedProcfile } from "./_procfile.ts";
import type { FullContext } from "./_context.ts";
import { SIGNAL_NAMES, normalizeSignal, type SignalName } from "../schema/units.ts";
import { formatListenAddress, listenMetrics, parseListenAddress, type ListenAddress, type MetricsServer } from "../supervise/metrics-server.ts";

const flags = withGlobals({
  only: { type: "string", description: "Supervise only these daemons (comma-separated); env DAEMONCTL_DAEMONS", valueHint: "a,b" },
  grace: { type: "string", description: "Time between the stop signals and SIGKILL at shutdown, seconds or 500ms/8s/2m (default 8s); env DAEMONCTL_GRACE", valueHint: "DURATION" },
  "log-format": { type: "string", description: "text (prefixed lines, default) or json ({ts,name,stream,line} per line)", valueHint: "FORMAT" },
  "single-child": { type: "boolean", alias: "c", description: "With -- CMD: keep the child in our session and group and signal it alone (dumb-init -c; env DUMB_INIT_SETSID=0)" },
  rewrite: { type: "string", alias: "r", multiple: true, description: "With -- CMD: rewrite a forwarded signal, e.g. 15:3 or TERM:QUIT (0 drops it; dumb-init -r)", valueHint: "S:D" },
  "process-group": { type: "boolean", alias: "g", description: "With -- CMD: signal the child's process group, the default (tini -g; env TINI_KILL_PROCESS_GROUP)" },
  "remap-exit": { type: "string", alias: "e", multiple: true, description: "With -- CMD: report this exit code of the child as 0; repeatable (tini -e)", valueHint: "CODE" },
  subreaper: { type: "boolean", alias: "s", description: "Fail unless PID 1 or a child subreaper, which supervise becomes anyway (tini -s; env TINI_SUBREAPER)" },
  "parent-death-signal": { type: "string", alias: "p", description: "Receive this signal when our parent dies, handled as if sent (tini -p)", valueHint: "SIGNAL" },
  "warn-reap": { type: "boolean", alias: "w", description: "Warn for every orphan reaped (tini -w)" },
  ...procfileFlags,
  metrics: { type: "string", description: "Serve the daemons' metrics over HTTP at /metrics on [HOST:]PORT (host default 127.0.0.1; 0.0.0.0:9100 for all)", valueHint: "[HOST:]PORT" },
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "supervise",
    commandArgs: "[-- CMD [ARGS…]]",
    description: "Container init: run the config's daemons (or `-- CMD` like tini), forward signals, reap zombies",
    usage:
      'Examples:\n  ENTRYPOINT ["daemonctl", "supervise"]                 daemons of ./daemonctl.json (or $DAEMONCTL_CONFIG)\n  ENTRYPOINT ["daemonctl", "supervise", "--procfile"]   the entries of ./Procfile, each with its PORT\n  ENTRYPOINT ["daemonctl", "supervise", "--"]           then CMD ["my-server"]: a tini/dumb-init drop-in',
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "supervise");
    const log = createLogger(p, p.rest !== null ? tiniVerbosity(p) : undefined);
    if (p.positionals.length) throw new UsageError(`unexpected argument "${p.positionals[0]}"; put the command after --, as in: daemonctl supervise -- ${p.positionals.join(" ")}`);
    const env = withoutHostSpec(process.env);
    return p.rest !== null ? superviseCommand(p, p.rest, env, log) : superviseConfig(p, env, log);
  },
});

/** `supervise -- CMD`: the tini/dumb-init drop-in. */
async function superviseCommand(p: ParsedArgv, command: string[], env: NodeJS.ProcessEnv, log: Logger): Promise<number> {
  if (command.length === 0) throw new UsageError("no command after --");
  if (str(p, "procfile") !== undefined) throw new UsageError("--procfile runs the Procfile's entries; a command after -- runs one command: choose one");
  if (str(p, "metrics") !== undefined) throw new UsageError("--metrics applies to the daemons of a config file, not to a command after --");
  const { parseRewrite, runSingleChild } = await import("../supervise/single-child.ts");
  const { envGraceMs } = await import("../supervise/plan.ts");
  const rewrite = new Map<number, number>();
  for (const spec of list(p, "rewrite")) {
    const r = parseRewrite(spec);
    if (!r) throw badValue("rewrite", spec, "a signal rewrite", "SIGNAL:SIGNAL such as 15:3 or TERM:QUIT (0 drops the signal)");
    rewrite.set(r[0], r[1]);
  }
  if (bool(p, "single-child") && bool(p, "process-group")) throw new UsageError("--single-child (-c) signals the child alone, --process-group (-g) its group: choose one");
  const graceFlag = str(p, "grace");
  return runSingleChild({
    command,
    singleChild: bool(p, "single-child") || (!bool(p, "process-group") && process.env.DUMB_INIT_SETSID === "0"),
    rewrite,
    // Like tini, no SIGKILL unless asked for: by --grace, or by DAEMONCTL_GRACE as in config mode.
    graceMs: graceFlag === undefined ? (envGraceMs(process.env.DAEMONCTL_GRACE) ?? null) : durationFlag(p, "grace", 0),
    remapToZero: new Set(list(p, "remap-exit").map(exitCodeFlag)),
    ...initFlags(p),
    env,
    log,
  });
}

/** `supervise`: container init for the daemons of the config file, or of a Procfile. */
async function superviseConfig(p: ParsedArgv, env: NodeJS.ProcessEnv, log: Logger): Promise<number> {
  rejectCommandOnlyFlags(p);
  const procfile = procfileFromFlags(p);
  const ctx = await fullContext(p);
  const { planSupervision, daemonSource } = await import("../supervise/plan.ts");
  const { loadConfig } = await import("../daemon/definition/config.ts");
  const inputs = { only: str(p, "only") ?? process.env.DAEMONCTL_DAEMONS, graceFlagMs: durationFlag(p, "grace"), envGrace: process.env.DAEMONCTL_GRACE, warn: (m: string) => log.warn(m) };
  if (procfile) warnReplacedDaemons(ctx, procfile, log);
  const source = daemonSource(ctx.config, procfile);
  if (!source) {
    throw new UsageError("supervise needs a config file (--config FILE, $DAEMONCTL_CONFIG or ./daemonctl.json), a Procfile (--procfile [FILE]), or a command after --: daemonctl supervise -- CMD ARGS");
  }
  const plan = planSupervision(source, inputs);
  // SIGHUP and `daemonctl reload`: the same files (Procfile and config), read and checked again.
  const replan = () => {
    const config = ctx.config ? loadConfig(ctx.config.path) : null;
    return planSupervision(daemonSource(config, procfile ? procfileFromFlags(p) : null)!, inputs);
  };
  const format = logFormat(p);
  const colour = colourAllowed(p);
  const metricsAt = metricsFlag(p);
  const { Supervisor } = await import("../supervise/supervisor.ts");
  const supervisor = new Supervisor({
    definitions: plan.definitions,
    levels: plan.levels,
    dirs: ctx.dirs,
    sharing: ctx.sharing,
    graceMs: plan.graceMs,
    logFormat: format,
    colour: { stdout: colour && Boolean(process.stdout.isTTY), stderr: colour && Boolean(process.stderr.isTTY) },
    probeTimeoutMs: probeTimeout(p),
    ...initFlags(p),
    replan,
    env,
    log,
  });
  // Bound before any daemon starts: a taken port ends the start-up with nothing begun.
  const metrics = metricsAt ? await serveMetrics(metricsAt, () => supervisor.statuses(), log) : null;
  try {
    return await supervisor.run();
  } finally {
    await metrics?.close();
  }
}

function metricsFlag(p: ParsedArgv): ListenAddress | null {
  const value = str(p, "metrics");
  if (value === undefined) return null;
  const at = parseListenAddress(value);
  if (!at) throw badValue("metrics", value, "a listen address", "9100, 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100");
  return at;
}

async function serveMetrics(at: ListenAddress, statuses: () => Status[], log: Logger): Promise<MetricsServer> {
  const r = await listenMetrics(at, statuses);
  if (!r.ok) throw new CliError(r.message, 1);
  log.info(`metrics at http://${formatListenAddress(r.server.address)}/metrics`);
  return r.server;
}

/** With both a Procfile and a config, the Procfile's entries are the daemons: said at start-up. */
function warnReplacedDaemons(ctx: FullContext, procfile: LoadedProcfile, log: Logger): void {
  const replaced = Object.keys(ctx.config?.config.daemons ?? {});
  if (replaced.length) log.warn(`the daemons of ${procfile.path} replace those of ${ctx.config!.path} (${replaced.join(", ")}); its directories, socket sharing and grace still apply`);
}

function rejectCommandOnlyFlags(p: ParsedArgv): void {
  const commandOnly = ["single-child", "rewrite", "process-group", "remap-exit"].filter((k) => p.flags[k] !== undefined && p.flags[k] !== false);
  if (commandOnly.length) throw new UsageError(`${commandOnly.map((k) => `--${k}`).join(", ")} apply${commandOnly.length === 1 ? "s" : ""} to a command: daemonctl supervise ${commandOnly.map((k) => `--${k}`).join(" ")} … -- CMD ARGS`);
}

function logFormat(p: ParsedArgv): "text" | "json" {
  const format = str(p, "log-format") ?? "text";
  if (format !== "text" && format !== "json") throw badValue("log-format", format, "a log format", "text or json", ["text", "json"]);
  return format;
}

/** tini's flags that mean the same in both modes: -s, -p, -w (and TINI_SUBREAPER). */
function initFlags(p: ParsedArgv): { requireSubreaper: boolean; parentDeathSignal: SignalName | null; warnOnReap: boolean } {
  const pdeath = str(p, "parent-death-signal");
  const parentDeathSignal = pdeath === undefined ? null : normalizeSignal(pdeath);
  if (pdeath !== undefined && !parentDeathSignal) throw badValue("parent-death-signal", pdeath, "a signal", "SIGTERM, TERM or 15", SIGNAL_NAMES);
  return { requireSubreaper: bool(p, "subreaper") || process.env.TINI_SUBREAPER !== undefined, parentDeathSignal, warnOnReap: bool(p, "warn-reap") };
}

function exitCodeFlag(v: string): number {
  if (!/^\d{1,3}$/.test(v) || Number(v) > 255) throw badValue("remap-exit", v, "an exit code", "a number from 0 to 255, such as 143");
  return Number(v);
}

/** tini's verbosity: TINI_VERBOSITY (default 1, warnings) plus one per -v. */
function tiniVerbosity(p: ParsedArgv): number {
  const env = Number.parseInt(process.env.TINI_VERBOSITY ?? "", 10);
  return (Number.isNaN(env) ? 1 : env) + count(p, "verbose");
}
