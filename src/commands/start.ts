/** `daemonctl start NAME [flags] [-- CMD ARGS]`: start once, however many callers race. */
import { writeStderr, writeStdout } from "../platform/files.ts";
import { withoutHostSpec } from "../schema/host-spec.ts";
import { resolveDefinition } from "../daemon/definition-source.ts";
import { startDaemon, type StartOutcome } from "../daemon/spawner.ts";
import { runStandaloneHost } from "../daemon/host-main.ts";
import { blankStatus } from "../daemon/status-report.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { fullContext } from "./_context.ts";
import { definitionFlags, definitionOverrides, waitFlags } from "./_definition-flags.ts";
import { createLogger } from "./_log.ts";
import { requireOneName, durationFlag, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";
import type { Logger } from "../daemon/host.ts";

const flags = withGlobals({
  name: { type: "positional", description: "Daemon name", required: true },
  foreground: { type: "boolean", description: "Run the host in this process (output to this terminal) instead of detached" },
  ...definitionFlags,
  ...waitFlags,
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "start",
    description: "Start a daemon once: no-op while healthy, replaced when its definition changed, reclaimed when its host died",
    usage: "Examples:\n  daemonctl start web -- python3 -m http.server 8000\n  daemonctl start web --ready tcp:127.0.0.1:8000 --watch app.conf -- ./server app.conf",
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "start");
    const log = createLogger(p);
    const name = requireOneName(p, "start");
    const ctx = await fullContext(p);
    const resolved = resolveDefinition({ name, command: p.rest ?? undefined, overrides: definitionOverrides(p), config: ctx.config, dirs: ctx.dirs });
    if (bool(p, "foreground")) {
      return runStandaloneHost(
        {
          schema: "daemonctl/host-spec@1",
          name,
          definition: resolved.definition,
          identity: resolved.identity,
          runtimeDir: ctx.dirs.runtimeDir,
          stateDir: ctx.dirs.stateDir,
          probeTimeoutMs: probeTimeout(p),
          socketMode: ctx.sharing.socketMode,
          gid: ctx.sharing.gid ?? null,
        },
        "foreground",
        log,
        withoutHostSpec(process.env),
      );
    }
    const outcome = await startDaemon({
      resolved,
      dirs: ctx.dirs,
      sharing: ctx.sharing,
      probeTimeoutMs: probeTimeout(p),
      waitMs: bool(p, "no-wait") ? null : durationFlag(p, "wait", 10_000),
      env: withoutHostSpec(process.env),
      log,
    });
    return await reportStart(name, outcome, bool(p, "json"), log);
  },
});

/** Prints the outcome (JSON on stdout, or a line on stderr) and returns the exit code. */
export async function reportStart(name: string, o: StartOutcome, json: boolean, log: Logger): Promise<number> {
  if (o.kind === "launched") {
    if (json) await writeStdout(`${JSON.stringify({ ...blankStatus(name), state: "starting", pid: o.hostPid }, null, 2)}\n`);
    else log.info(`${name}: launched${o.hostPid ? ` (host pid ${o.hostPid})` : ""}; not waiting for readiness`);
    return 0;
  }
  if (o.kind === "failed") {
    if (json) {
      const s = o.status ?? blankStatus(name);
      await writeStdout(`${JSON.stringify({ ...s, error: { code: "start-failed", message: o.message } }, null, 2)}\n`);
    }
    log.error(`${name} failed to start: ${o.message}`);
    if (o.logTail.length) await writeStderr(`last output of ${name}:\n${o.logTail.map((l) => `  ${l}`).join("\n")}\n`);
    return 1;
  }
  const s = o.status;
  if (json) await writeStdout(`${JSON.stringify(s, null, 2)}\n`);
  else {
    const verb = o.kind === "already-running" ? "already running" : o.kind;
    log.info(`${name} ${verb} (pid ${s.pid}${s.child?.pid ? `, child ${s.child.pid}` : ""})`);
  }
  return 0;
}
