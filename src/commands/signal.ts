/** `daemonctl signal NAME SIG [--group]`: send a signal to a daemon's main process (or its group). */
import { writeStdout } from "../platform/files.ts";
import { normalizeSignal } from "../schema/units.ts";
import { signalDaemon } from "../daemon/client/signaller.ts";
import { UsageError } from "../errors.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { knownDaemons, unknownDaemonMessage } from "../daemon/state/known.ts";
import { createLogger } from "./_log.ts";
import { checkName, dirsFrom, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  name: { type: "positional", description: "Daemon name", required: true },
  signal: { type: "positional", description: "Signal name or number (HUP, SIGUSR1, 15)", required: true },
  group: { type: "boolean", description: "Send it to the daemon's whole process group" },
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "signal",
    description: "Send a signal to a daemon's main process (--group: its process group); the daemon's restart policy handles the rest",
    usage: "Examples:\n  daemonctl signal web HUP\n  daemonctl signal web SIGUSR1 --group",
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "signal");
    const log = createLogger(p);
    if (p.positionals.length !== 2) throw new UsageError("give a daemon name and a signal: daemonctl signal NAME SIG");
    const name = checkName(p.positionals[0]!);
    const sig = normalizeSignal(p.positionals[1]!);
    if (!sig) throw new UsageError(`"${p.positionals[1]}" is not a signal; use a name or number like HUP, SIGUSR1 or 15`);
    const group = bool(p, "group");
    const dirs = await dirsFrom(p);
    const o = await signalDaemon(name, sig, group, dirs, probeTimeout(p));
    if (bool(p, "json")) await writeStdout(`${JSON.stringify({ name, ...o }, null, 2)}\n`);
    switch (o.kind) {
      case "signalled":
        log.info(`${name}: sent ${o.signal} to ${group ? "the process group of " : ""}pid ${o.pid}`);
        return 0;
      case "unknown":
        log.error(unknownDaemonMessage([name], knownDaemons(dirs)));
        return 1;
      case "not-running":
        log.error(o.message);
        return 3;
      default:
        log.error(`${name}: ${o.message}`);
        return 1;
    }
  },
});
