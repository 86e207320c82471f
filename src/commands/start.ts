/** `daemonctl start NAME [flags] [-- CMD ARGS]`: start once, however many callers race. */
import { withoutHostSpec } from "../schema/host-spec.ts";
import { resolveDefinition } from "../daemon/definition/source.ts";
import { hostSpecFor } from "../daemon/definition/host-spec.ts";
import { startDaemon } from "../daemon/client/spawner.ts";
import { bool, parseArgv, str } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { fullContext } from "./_context.ts";
import { definitionFlags, definitionOverrides, waitFlags } from "./_definition-flags.ts";
import { createLogger } from "./_log.ts";
import { reportStart } from "./_report.ts";
import { terminalProgress } from "./_progress.ts";
import { requireOneName, durationFlag, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

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
    commandArgs: "[-- CMD [ARGS…]]",
    description: "Start a daemon once: no-op while healthy, replaced when its definition changed, reclaimed when its host died",
    usage: "Examples:\n  daemonctl start web -- python3 -m http.server 8000\n  daemonctl start web --ready tcp:127.0.0.1:8000 --watch app.conf -- ./server app.conf",
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "start", { names: 1, noMoreNames: true });
    const log = createLogger(p);
    const name = requireOneName(p, "start");
    const ctx = await fullContext(p);
    const resolved = resolveDefinition({ name, command: p.rest ?? undefined, overrides: definitionOverrides(p), config: ctx.config, dirs: ctx.dirs });
    if (bool(p, "foreground")) {
      const { runStandaloneHost } = await import("../daemon/host/standalone.ts");
      return runStandaloneHost(
        hostSpecFor(resolved, ctx.dirs, ctx.sharing, probeTimeout(p)),
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
      waitGiven: str(p, "wait") !== undefined,
      progress: bool(p, "quiet") ? undefined : terminalProgress(),
      env: withoutHostSpec(process.env),
      log,
    });
    return await reportStart(name, outcome, bool(p, "json"), log);
  },
});
