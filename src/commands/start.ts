/** `daemonctl start NAME [flags] [-- CMD ARGS]`: start once, however many callers race. */
import { writeStdout } from "../platform/files.ts";
import { withoutHostSpec } from "../schema/host-spec.ts";
import { resolveDefinition } from "../daemon/definition/source.ts";
import { hostSpecFor } from "../daemon/definition/host-spec.ts";
import { startDaemon } from "../daemon/client/spawner.ts";
import { bool, parseArgv, str } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { fullContext } from "./_context.ts";
import { definitionBase, definitionFlags, definitionOverrides, startOptionsFrom, waitFlags } from "./_definition-flags.ts";
import { createLogger } from "./_log.ts";
import { reportStart } from "./_report.ts";
import { blankStatus } from "../daemon/client/status-report.ts";
import { terminalProgress } from "./_progress.ts";
import { everyDaemon, namesOrAll, resolveEvery } from "./_all.ts";
import type { ParsedArgv } from "./_argv.ts";
import type { Logger } from "../logger.ts";
import { procfileFlags, procfileFromFlags } from "./_procfile.ts";
import { UsageError } from "../errors.ts";
import type { ResolvedDefinition } from "../daemon/definition/source.ts";
import type { FullContext } from "./_context.ts";
import { trace } from "../trace.ts";
import { requireOneName, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  name: { type: "positional", description: "Daemon name", required: true },
  all: { type: "boolean", description: "Start every known daemon (and every daemon of the config), each with its own definition" },
  foreground: { type: "boolean", description: "Run the host in this process (output to this terminal) instead of detached" },
  "unless-stopped": { type: "boolean", description: "Start nothing if an operator stopped it (intent stopped): exit 3 and say so (what an auto-spawning tool wants)" },
  ...procfileFlags,
  ...definitionFlags,
  ...waitFlags,
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "start",
    commandArgs: "[-- CMD [ARGS…]]",
    description: "Start a daemon once: no-op while healthy, replaced when its definition changed, reclaimed when its host died",
    usage: "Examples:\n  daemonctl start web -- python3 -m http.server 8000\n  daemonctl start web --ready tcp:127.0.0.1:8000 --watch app.conf -- ./server app.conf",
  },
  flags,
  async run(argv) {
    // With --procfile the positionals are entry names, as many as wanted.
    const p = parseArgv(argv, flags, "start", { names: 1, noMoreNames: !mentionsProcfile(argv) });
    const log = createLogger(p);
    if (str(p, "definition") !== undefined && (str(p, "procfile") !== undefined || bool(p, "all"))) throw new UsageError("--definition is one daemon's definition: give it with one NAME, not with --all or --procfile");
    if (str(p, "procfile") !== undefined) return startProcfile(p, log);
    if (namesOrAll(p, bool(p, "all"), "start") === "all") return startAll(p, log);
    const name = requireOneName(p, "start");
    const ctx = await fullContext(p);
    const resolved = resolveDefinition({ name, command: p.rest ?? undefined, overrides: definitionOverrides(p), base: definitionBase(p), config: ctx.config, dirs: ctx.dirs });
    if (bool(p, "foreground")) {
      const { runStandaloneHost } = await import("../daemon/host/standalone.ts");
      return runStandaloneHost(
        hostSpecFor(resolved, ctx.dirs, ctx.sharing, probeTimeout(p)),
        "foreground",
        log,
        withoutHostSpec(process.env),
      );
    }
    trace("client: definition resolved");
    const outcome = await startDaemon({ ...startOptionsFrom(p, ctx, log), resolved, unlessStopped: bool(p, "unless-stopped"), progress: bool(p, "quiet") ? undefined : terminalProgress() });
    trace("client: outcome");
    return await reportStart(name, outcome, bool(p, "json"), log);
  },
});

/** `--procfile` before any `--`, in either spelling. */
function mentionsProcfile(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--procfile" || a.startsWith("--procfile="));
}

/**
 * `start --procfile [NAME…]`: each entry (or the named ones) as a standalone daemon with its own
 * host, as `start --all` does. The same entry gets the same PORT and so the same definition
 * whether started here or by `supervise --procfile`: a running one is left alone.
 */
async function startProcfile(p: ParsedArgv, log: Logger): Promise<number> {
  if (p.rest !== null) throw new UsageError("--procfile starts the Procfile's entries; a command after -- defines one daemon: choose one");
  if (bool(p, "all")) throw new UsageError("--procfile starts the Procfile's entries; --all every known daemon: choose one");
  if (bool(p, "foreground")) throw new UsageError("--foreground runs one daemon's host in this terminal; for a Procfile in the foreground use: daemonctl supervise --procfile");
  const ctx = await fullContext(p);
  const procfile = procfileFromFlags(p, definitionOverrides(p))!;
  const defined = procfile.definitions.map((d) => d.name);
  const unknown = p.positionals.filter((n) => !defined.includes(n));
  if (unknown.length) throw new UsageError(`${procfile.path} has no entr${unknown.length === 1 ? "y" : "ies"} ${unknown.map((n) => `"${n}"`).join(", ")}; it defines ${defined.join(", ")}`);
  const chosen = p.positionals.length ? procfile.definitions.filter((d) => p.positionals.includes(d.name)) : procfile.definitions;
  return startEach(p, chosen, 0, ctx, log);
}

async function startAll(p: ParsedArgv, log: Logger): Promise<number> {
  const ctx = await fullContext(p);
  const { resolved, failed } = resolveEvery(everyDaemon(ctx), ctx, definitionOverrides(p), log);
  return startEach(p, resolved, failed, ctx, log);
}

/** Starts them all at once and reports each; `failed` counts those that could not even be defined. */
async function startEach(p: ParsedArgv, resolved: ResolvedDefinition[], failed: number, ctx: FullContext, log: Logger): Promise<number> {
  const outcomes = await Promise.all(
    resolved.map((r) =>
      startDaemon({ ...startOptionsFrom(p, ctx, log), resolved: r }),
    ),
  );
  let code = failed ? 1 : 0;
  const docs: unknown[] = [];
  for (const [i, o] of outcomes.entries()) {
    const c = await reportStart(resolved[i]!.name, o, false, log);
    if (o.kind !== "failed" && o.kind !== "launched") docs.push(o.status ?? { ...blankStatus(resolved[i]!.name), state: "done" });
    if (c !== 0) code = c;
  }
  if (bool(p, "json")) await writeStdout(`${JSON.stringify(docs, null, 2)}\n`);
  return code;
}
