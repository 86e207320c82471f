// The least a supervisor does with a daemon's output: read its pipe, write each chunk to stdout
// and to a log file (synchronously, as daemonctl does). No prefixing, no rotation.
// Usage: copy FILE LOG   (LOG "-": no log file)
import { spawn } from "node:child_process";
import { openSync, writeSync } from "node:fs";
const [file, logPath] = process.argv.slice(2) as [string, string];
const log = logPath === "-" ? -1 : openSync(logPath, "w");
const child = spawn("cat", [file], { stdio: ["ignore", "pipe", "inherit"] });
child.stdout!.on("data", (chunk: Uint8Array) => {
  writeSync(1, chunk);
  if (log >= 0) writeSync(log, chunk);
});
child.on("close", () => process.exit(0));
