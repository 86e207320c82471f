/** `daemonctl stop NAME… | --all`: planned stop; the daemon stays down across restarts. */
import { writeStdout } from "../platform/files.ts";
import { stopDaemon } from "../daemon/client/stopper.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import { UsageError } from "../errors.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { createLogger } from "./_log.ts";
import { describeEscalation } from "./_format.ts";
import { checkName, requireKnownNames, dirsFrom, durationFlag, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names", required: false },
  all: { type: "boolean", description: "Stop every known daemon" },
  timeout: { type: "string", description: "How long to wait before SIGKILL, seconds or 500ms/8s/2m (default: the daemon's stopTimeout + 2s)", valueHint: "DURATION" },
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: { name: "stop", description: "Stop daemons as planned: intent becomes stopped, so they stay down until started" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "stop");
    const log = createLogger(p);
    const dirs = await dirsFrom(p);
    const all = bool(p, "all");
    if (all && p.positionals.length) throw new UsageError("give daemon names or --all, not both");
    if (!all && p.positionals.length === 0) throw new UsageError("which daemon? give one or more names, or --all");
    const names = all ? knownDaemons(dirs) : p.positionals.map(checkName);
    if (!all) await requireKnownNames(p, dirs, names);
    const results = await Promise.all(
      names.map(async (name) => ({
        name,
        outcome: await stopDaemon(name, { dirs, reason: "stop", probeTimeoutMs: probeTimeout(p), timeoutMs: durationFlag(p, "timeout"), log }),
      })),
    );
    let code = 0;
    for (const { name, outcome } of results) {
      if (outcome.kind === "failed") {
        code = 1;
        log.error(`${name}: could not stop: ${outcome.message}`);
        continue;
      }
      for (const note of outcome.notes) log.warn(`${name}: ${note}`);
      log.info(outcome.wasRunning ? `${name} stopped${describeEscalation(outcome.escalated)}` : `${name} was not running`);
    }
    if (bool(p, "json")) {
      const doc = results.map(({ name, outcome }) =>
        outcome.kind === "failed" ? { name, stopped: false, error: outcome.message } : { name, stopped: true, wasRunning: outcome.wasRunning, notes: outcome.notes, killed: outcome.escalated !== null },
      );
      await writeStdout(`${JSON.stringify(doc, null, 2)}\n`);
    }
    return code;
  },
});

