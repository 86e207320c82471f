/** `daemonctl supervise`: container init, for the daemons of a config file or for one command. */
import { configDefinitions } from "../daemon/definition-source.ts";
import { withoutHostSpec } from "../schema/host-spec.ts";
import { UsageError } from "../errors.ts";
import { bool, list, parseArgv, str } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { fullContext } from "./_context.ts";
import { createLogger } from "./_log.ts";
import { durationFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";
import { parseDuration } from "../schema/units.ts";

const flags = withGlobals({
  only: { type: "string", description: "Supervise only these daemons (comma-separated); env DAEMONCTL_DAEMONS", valueHint: "a,b" },
  grace: { type: "string", description: "Time between the stop signals and SIGKILL at shutdown (default 8s); env DAEMONCTL_GRACE", valueHint: "DURATION" },
  "log-format": { type: "string", description: "text (prefixed lines, default) or json ({ts,name,stream,line} per line)", valueHint: "FORMAT" },
  "single-child": { type: "boolean", description: "With -- CMD: signal only the child, not its process group" },
  rewrite: { type: "string", multiple: true, description: "With -- CMD: rewrite a forwarded signal, e.g. 15:3 or TERM:QUIT (0 drops it)", valueHint: "S:D" },
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "supervise",
    description: "Container init: run the config's daemons (or `-- CMD` like tini), forward signals, reap zombies",
    usage:
      'Examples:\n  ENTRYPOINT ["daemonctl", "supervise"]                 daemons of ./daemonctl.json (or $DAEMONCTL_CONFIG)\n  ENTRYPOINT ["daemonctl", "supervise", "--"]           then CMD ["my-server"]: a tini/dumb-init drop-in',
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "supervise");
    const log = createLogger(p);
    if (p.positionals.length) throw new UsageError(`unexpected argument "${p.positionals[0]}"; put the command after --, as in: daemonctl supervise -- ${p.positionals.join(" ")}`);
    const env = withoutHostSpec(process.env);
    if (p.rest !== null) {
      if (p.rest.length === 0) throw new UsageError("no command after --");
      const rewrite = new Map<number, number>();
      const { parseRewrite, runSingleChild } = await import("../supervise/single-child.ts");
      for (const spec of list(p, "rewrite")) {
        const r = parseRewrite(spec);
        if (!r) throw new UsageError(`--rewrite expects SIGNAL:SIGNAL such as 15:3 or TERM:QUIT (0 drops), got "${spec}"`);
        rewrite.set(r[0], r[1]);
      }
      const graceFlag = str(p, "grace");
      return runSingleChild({ command: p.rest, singleChild: bool(p, "single-child"), rewrite, graceMs: graceFlag === undefined ? null : durationFlag(p, "grace", 0), env, log });
    }
    if (bool(p, "single-child") || list(p, "rewrite").length) throw new UsageError("--single-child and --rewrite apply to a command: daemonctl supervise --single-child -- CMD ARGS");

    const ctx = await fullContext(p);
    if (!ctx.config) {
      throw new UsageError("supervise needs a config file (--config FILE, $DAEMONCTL_CONFIG or ./daemonctl.json), or a command after --: daemonctl supervise -- CMD ARGS");
    }
    const { dependencyLevels, selectDaemons } = await import("../supervise/order.ts");
    const all = configDefinitions(ctx.config);
    const { selected, unknown } = selectDaemons(all.map((d) => d.name), str(p, "only") ?? process.env.DAEMONCTL_DAEMONS);
    for (const u of unknown) log.warn(`--only/DAEMONCTL_DAEMONS names "${u}", which ${ctx.config.path} does not define; ignoring it`);
    if (selected.length === 0) throw new UsageError(`no daemons to supervise: ${ctx.config.path} defines ${all.length ? all.map((d) => d.name).join(", ") : "none"}`);
    const definitions = all.filter((d) => selected.includes(d.name));
    const order = dependencyLevels(new Map(definitions.map((d) => [d.name, d.definition.dependsOn])), new Set(all.map((d) => d.name)));
    if ("problem" in order) throw new UsageError(`${ctx.config.path}: ${order.problem.message}`);

    const format = str(p, "log-format") ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--log-format must be text or json (got "${format}")`);
    const envGrace = process.env.DAEMONCTL_GRACE;
    const graceMs = str(p, "grace") !== undefined ? durationFlag(p, "grace", 8_000) : envGrace ? parseDuration(envGrace) : (ctx.config.config.grace ?? 8_000);
    if (graceMs === null) throw new UsageError(`DAEMONCTL_GRACE must be a duration like 8s (got "${envGrace}")`);
    const colour = p.flags.color !== false && !process.env.NO_COLOR;
    const { Supervisor } = await import("../supervise/supervisor.ts");
    return new Supervisor({
      definitions,
      levels: order.levels,
      dirs: ctx.dirs,
      sharing: ctx.sharing,
      graceMs,
      logFormat: format,
      colour: { stdout: colour && Boolean(process.stdout.isTTY), stderr: colour && Boolean(process.stderr.isTTY) },
      probeTimeoutMs: probeTimeout(p),
      env,
      log,
    }).run();
  },
});
