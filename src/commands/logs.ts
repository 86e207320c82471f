/** `daemonctl logs [NAME…] [-f] [-n N] [--since D] [--timestamps]`: print or follow daemons' logs. */
import { writeStderr, writeStdout } from "../platform/files.ts";
import { daemonFiles } from "../daemon/state/paths.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import { entryExists } from "../platform/files.ts";
import { followLogs, recentLines } from "../daemon/client/log-view.ts";
import { badValue, bool, parseArgv, str } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { checkName, dirsFrom, durationFlag, requireKnownNames, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names (default: every known daemon, each line prefixed with [name])", required: false },
  follow: { type: "boolean", alias: "f", description: "Keep printing new output (follows rotation)" },
  lines: { type: "string", alias: "n", description: "How many recent lines to print first, per daemon (default 50; all with --since)", valueHint: "N" },
  since: { type: "string", description: "Only lines written within this long before now (e.g. 10m, 1h)", valueHint: "DURATION" },
  timestamps: { type: "boolean", alias: "t", description: "Show when each line was written (UTC)" },
});

export default defineCommand({
  meta: { name: "logs", description: "Print (or follow with -f) daemons' output from S/logs/NAME.log; without a name, all of them interleaved" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "logs");
    const given = p.positionals.map(checkName);
    const lines = linesFlag(p.flags.lines, str(p, "since") !== undefined);
    const since = durationFlag(p, "since");
    const dirs = await dirsFrom(p);
    if (given.length) await requireKnownNames(p, dirs, given);
    const names = given.length ? given : knownDaemons(dirs);
    const view = { dirs, names, lines, sinceMs: since === undefined ? null : Date.now() - since, timestamps: bool(p, "timestamps"), prefix: given.length !== 1 };
    const recent = recentLines(view);
    if (recent.length) await writeStdout(`${recent.join("\n")}\n`);
    if (!bool(p, "follow")) {
      for (const name of given) {
        const path = daemonFiles(dirs, name).log;
        if (!entryExists(path)) await writeStderr(`no log for ${name} at ${path}\n`);
      }
      if (!names.length) await writeStderr("no daemons known here\n");
      return 0;
    }
    let stop = false;
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => (stop = true));
    await followLogs(view, (text) => process.stdout.write(text), () => stop);
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    return 0;
  },
});

function linesFlag(value: unknown, since: boolean): number | null {
  if (value === undefined) return since ? null : 50;
  const n = Number(value);
  if (typeof value !== "string" || !Number.isInteger(n) || n < 0) throw badValue("lines", String(value), "a whole number of lines", "0, 50 or 200");
  return n;
}
