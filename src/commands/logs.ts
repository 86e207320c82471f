/** `daemonctl logs NAME [-f] [-n N]`: print or follow a daemon's log file. */
import { writeStderr, writeStdout } from "../platform/files.ts";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { daemonFiles } from "../daemon/state/paths.ts";
import { tailLines } from "../daemon/state/logfile.ts";
import { UsageError } from "../errors.ts";
import { bool, parseArgv, str } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { dirsFrom, requireOneName, withGlobals } from "./_shared.ts";

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
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--lines expects a whole number (got "${str(p, "lines")}")`);
    const path = daemonFiles(await dirsFrom(p), name).log;
    const lines = n === 0 ? [] : tailLines(path, n);
    if (lines.length) await writeStdout(`${lines.join("\n")}\n`);
    if (!bool(p, "follow")) {
      if (!lines.length && !exists(path)) await writeStderr(`no log for ${name} at ${path}\n`);
      return 0;
    }
    await follow(path);
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    return 0;
  },
});

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Polls the file (4×/s): prints appended bytes, and starts over when rotation replaces it. */
async function follow(path: string): Promise<void> {
  let ino = -1;
  let pos = 0;
  try {
    const st = statSync(path);
    ino = st.ino;
    pos = st.size;
  } catch {
    // not yet created
  }
  let stop = false;
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => (stop = true));
  const buf = Buffer.alloc(64 * 1024);
  while (!stop) {
    try {
      const st = statSync(path);
      if (st.ino !== ino || st.size < pos) {
        ino = st.ino;
        pos = 0;
      }
      if (st.size > pos) {
        const fd = openSync(path, "r");
        try {
          let n: number;
          while ((n = readSync(fd, buf, 0, buf.length, pos)) > 0) {
            process.stdout.write(Buffer.from(buf.subarray(0, n)));
            pos += n;
          }
        } finally {
          closeSync(fd);
        }
      }
    } catch {
      // rotated away or not there yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
