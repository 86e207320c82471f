/**
 * `start --ready notify` latency: from the daemon's READY=1 (its wall clock just before send)
 * to `start` returning. Usage: bun bench/notify.ts [runs] (after `bun build.ts`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const runs = Number(process.argv[2] ?? 20);
const bin = resolve(import.meta.dir, "../dist/daemonctl");
const dir = mkdtempSync("/tmp/dct-bench-notify-");
const env = { ...process.env, DAEMONCTL_RUNTIME_DIR: join(dir, "r"), DAEMONCTL_STATE_DIR: join(dir, "s") };
const script = join(dir, "d.pl");
writeFileSync(script, `use Socket; use Time::HiRes qw(time sleep);
sleep 0.3; socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die;
open(my $f, ">", "$ARGV[0]"); printf $f "%.3f", time() * 1000; close $f;
send($s, "READY=1", 0, sockaddr_un($ENV{NOTIFY_SOCKET})) or die; sleep 1000;
`);
const lat: number[] = [];
for (let i = 0; i < runs; i++) {
  const mark = join(dir, `t${i}`);
  const r = spawnSync(bin, ["start", `n${i}`, "--ready", "notify", "--", "perl", script, mark], { env });
  const end = Date.now();
  if (r.status !== 0) throw new Error(`start failed: ${r.stderr}`);
  lat.push(end - Number(readFileSync(mark, "utf8")));
  spawnSync(bin, ["stop", `n${i}`], { env });
}
lat.sort((a, b) => a - b);
console.log(`READY=1 → start returned: median ${lat[lat.length >> 1]!.toFixed(1)} ms, min ${lat[0]!.toFixed(1)}, max ${lat[lat.length - 1]!.toFixed(1)} (${runs} runs)`);
rmSync(dir, { recursive: true, force: true });
