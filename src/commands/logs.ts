/** `daemonctl logs NAME [-f] [-n N]`: print or follow a daemon's log file. */
import { writeStderr, writeStdout } from "../platform/files.ts";
import { daemonFiles } from "../daemon/state/paths.ts";
import { followLog, logExists, tailLines } from "../daemon/state/logfile.ts";
import { badValue, bool, parseArgv, str } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { dirsFrom, requireKnownNames, requireOneName, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  name: { type: "positional", description: "Daemon name", required: true },
  follow: { type: "boolean", alias: "f", description: "Keep printing new output (follows rotation)" },
  lines: { type: "string", alias: "n", description: "How many recent lines to print first (default 50)", valueHint: "N" },
});

export default defineCommand({
  meta: { name: "logs", description: "Print (or follow with -f) a daemon's output from S/logs/NAME.log" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "logs");
    const name = requireOneName(p, "logs");
    const n = Number(str(p, "lines") ?? 50);
    if (!Number.isInteger(n) || n < 0) throw badValue("lines", str(p, "lines")!, "a whole number of lines", "0, 50 or 200");
    const dirs = await dirsFrom(p);
    await requireKnownNames(p, dirs, [name]);
    const path = daemonFiles(dirs, name).log;
    const lines = n === 0 ? [] : tailLines(path, n);
    if (lines.length) await writeStdout(`${lines.join("\n")}\n`);
    if (!bool(p, "follow")) {
      if (!lines.length && !logExists(path)) await writeStderr(`no log for ${name} at ${path}\n`);
      return 0;
    }
    let stop = false;
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => (stop = true));
    await followLog(path, (chunk) => process.stdout.write(chunk), () => stop);
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    return 0;
  },
});
