/** `daemonctl delete NAME…` (alias `rm`): planned stop, then forget everything about the daemon. */
import { writeStdout } from "../platform/files.ts";
import { deleteDaemon } from "../daemon/client/deleter.ts";
import { UsageError } from "../errors.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { knownDaemons, unknownDaemonMessage } from "../daemon/state/known.ts";
import { createLogger } from "./_log.ts";
import { checkName, dirsFrom, durationFlag, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names", required: true },
  timeout: { type: "string", description: "How long the stop may take before SIGKILL (default: the daemon's stopTimeout + 2s)", valueHint: "DURATION" },
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "delete",
    aliases: ["rm"],
    description: "Stop daemons if running, then forget them: definition, intent, state, metadata, locks and logs",
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "delete");
    const log = createLogger(p);
    const names = p.positionals.map(checkName);
    if (names.length === 0) throw new UsageError("which daemon? give one or more names");
    const dirs = await dirsFrom(p);
    let code = 0;
    const docs: unknown[] = [];
    for (const name of names) {
      const outcome = await deleteDaemon(name, { dirs, probeTimeoutMs: probeTimeout(p), timeoutMs: durationFlag(p, "timeout"), log });
      if (outcome.kind === "unknown") {
        code = 1;
        log.error(unknownDaemonMessage([name], knownDaemons(dirs)));
        docs.push({ name, deleted: false, error: "unknown" });
      } else if (outcome.kind === "failed") {
        code = 1;
        log.error(`${name}: not deleted: ${outcome.message}`);
        docs.push({ name, deleted: false, error: outcome.message });
      } else {
        for (const note of outcome.notes) log.warn(`${name}: ${note}`);
        log.info(outcome.wasRunning ? `${name} stopped and deleted` : `${name} deleted`);
        docs.push({ name, deleted: true, wasRunning: outcome.wasRunning });
      }
    }
    if (bool(p, "json")) await writeStdout(`${JSON.stringify(docs, null, 2)}\n`);
    return code;
  },
});
