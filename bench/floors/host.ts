// The least a standalone host holds: a Unix socket answering JSON, one child with piped output
// into a log file, a state file written once (fsync'd). Usage: host DIR
import { spawn } from "node:child_process";
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
const dir = process.argv[2]!;
const log = openSync(`${dir}/x.log`, "a");
const child = spawn("sleep", ["100000"], { stdio: ["ignore", "pipe", "pipe"], detached: true });
child.stdout!.on("data", (c: Uint8Array) => writeSync(log, c));
child.stderr!.on("data", (c: Uint8Array) => writeSync(log, c));
const fd = openSync(`${dir}/s.tmp`, "w");
writeSync(fd, JSON.stringify({ pid: child.pid, at: Date.now() }));
fsyncSync(fd);
closeSync(fd);
renameSync(`${dir}/s.tmp`, `${dir}/s.json`);
Bun.listen({ unix: `${dir}/x.sock`, socket: { data(s, d) { s.write(`${JSON.stringify({ ok: true, pid: child.pid, n: d.length })}\n`); } } });
process.on("SIGTERM", () => {
  child.kill("SIGTERM");
  process.exit(0);
});
