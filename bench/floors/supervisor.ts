// The least a supervisor of 4 daemons holds: 4 children with piped output copied to stdout and a
// log file each, 4 Unix sockets answering JSON, SIGTERM/SIGCHLD handlers. Usage: supervisor DIR
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, writeSync } from "node:fs";
const dir = process.argv[2]!;
const children: ChildProcess[] = [];
for (let i = 0; i < 4; i++) {
  const log = openSync(`${dir}/d${i}.log`, "a");
  const child = spawn("sleep", ["100000"], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  children.push(child);
  child.stdout!.on("data", (c: Uint8Array) => (writeSync(1, c), writeSync(log, c)));
  child.stderr!.on("data", (c: Uint8Array) => (writeSync(2, c), writeSync(log, c)));
  Bun.listen({ unix: `${dir}/d${i}.sock`, socket: { data(s, d) { s.write(`${JSON.stringify({ ok: true, pid: child.pid, n: d.length })}\n`); } } });
}
process.on("SIGCHLD", () => {});
process.on("SIGTERM", () => {
  for (const c of children) c.kill("SIGTERM");
  process.exit(0);
});
