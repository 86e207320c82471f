/** `daemonctl restart NAME… [-- CMD ARGS]`: planned stop, then start with the same or a new definition. */
import { writeStdout } from "../platform/files.ts";
import { resolveDefinition } from "../daemon/definition/source.ts";
import { startDaemon } from "../daemon/client/spawner.ts";
import { stopDaemon } from "../daemon/client/stopper.ts";
import { UsageError } from "../errors.ts";
import { bool, parseArgv, str, withDashDash, type ParsedArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { fullContext } from "./_context.ts";
import { definitionBase, definitionFlags, definitionOverrides, startOptionsFrom, waitFlags } from "./_definition-flags.ts";
import { createLogger } from "./_log.ts";
import { checkName, requireKnownNames, durationFlag, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";
import { reportStart } from "./_report.ts";
import { blankStatus } from "../daemon/client/status-report.ts";
import { describeEscalation } from "./_format.ts";
import { everyDaemon, namesOrAll, resolveEvery } from "./_all.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names", required: true },
  all: { type: "boolean", description: "Restart every known daemon (and every daemon of the config), each with its own definition" },
  timeout: { type: "string", description: "How long the stop may take before SIGKILL, seconds or 500ms/8s/2m", valueHint: "DURATION" },
  ...definitionFlags,
  ...waitFlags,
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: { name: "restart", description: "Stop as planned, then start again (with a new definition if given)", commandArgs: "[-- CMD [ARGS…]]" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "restart", { names: 1 });
    const log = createLogger(p);
    const all = namesOrAll(p, bool(p, "all"), "restart") === "all";
    if (str(p, "definition") !== undefined && (all || p.positionals.length !== 1)) throw new UsageError("--definition is one daemon's definition: give it with one NAME");
    const names = p.positionals.map(checkName);
    if (names.length === 0 && !all) throw new UsageError("which daemon? give one or more names, or --all");
    if (p.rest && names.length > 1) throw new UsageError("a new command (-- CMD) can only be given when restarting one daemon");
    const ctx = await fullContext(p);
    if (!p.rest) await requireKnownNames(p, ctx.dirs, names, (unknown) => dashDashHint(p, argv, names, unknown));
    // Resolve every definition first: a usage error must not leave a daemon stopped.
    const every = all ? resolveEvery(everyDaemon(ctx), ctx, definitionOverrides(p), log) : null;
    const resolved = every
      ? every.resolved
      : names.map((name) => resolveDefinition({ name, command: p.rest ?? undefined, overrides: definitionOverrides(p), base: definitionBase(p), config: ctx.config, dirs: ctx.dirs }));
    let code = every?.failed ? 1 : 0;
    const docs: unknown[] = [];
    for (const r of resolved) {
      const stopped = await stopDaemon(r.name, { dirs: ctx.dirs, reason: "restart", probeTimeoutMs: probeTimeout(p), timeoutMs: durationFlag(p, "timeout"), log });
      if (stopped.kind === "failed") {
        log.error(`${r.name}: could not stop: ${stopped.message}`);
        code = 1;
        continue;
      }
      if (stopped.escalated) log.warn(`${r.name}: stopped${describeEscalation(stopped.escalated)}`);
      const outcome = await startDaemon({ ...startOptionsFrom(p, ctx, log), resolved: r, rerun: true });
      const c = await reportStart(r.name, outcome.kind === "already-running" ? { ...outcome, kind: "started" } : outcome, false, log);
      if (outcome.kind === "failed") docs.push({ ...(outcome.status ?? blankStatus(r.name)), error: { code: "start-failed", message: outcome.message } });
      else if (outcome.kind === "launched") docs.push(outcome.status ?? { ...blankStatus(r.name), state: "starting", pid: outcome.hostPid });
      else docs.push(outcome.status ?? { ...blankStatus(r.name), state: "done" });
      if (c !== 0 && code === 0) code = c;
    }
    if (bool(p, "json")) await writeStdout(`${JSON.stringify(names.length === 1 && !all ? (docs[0] ?? null) : docs, null, 2)}\n`);
    return code;
  },
});

/** `restart w sleep 100`: when only the names after the first are unknown, they were its command. */
function dashDashHint(p: ParsedArgv, argv: string[], names: string[], unknown: string[]): string {
  if (names.length < 2 || unknown.includes(names[0]!)) return "";
  return `; to give ${names[0]} a new command, put it after "--":\n  ${withDashDash("restart", argv, p.positionalAt, 1)}`;
}
