#!/usr/bin/env bun
/**
 * supervise figures (issue 3):
 * - idle: 4 idle daemons, supervisor CPU ticks over 10 s (<= 1) and RSS (<= 50 MiB);
 * - prefix: end-to-end prefixed throughput (a daemon `cat`s a file through the supervisor to
 *   /dev/null) against `cat file | sed 's/^/[x] /'` (>= sed, goal 2x);
 * - shutdown: SIGTERM to exit, with daemons that exit at once on TERM (goal 50 ms).
 * Runs the supervisor as PID 1 with `unshare -fp` (root).
 *
 *   bun bench/supervise.ts [idle|prefix|shutdown]…
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, median, sleep, spawn, spawnSync, tempDir, ticks } from "./lib.ts";

const which = process.argv.slice(2);
const want = (k: string) => which.length === 0 || which.includes(k);

function config(dir: string, daemons: Record<string, unknown>): string {
  const path = join(dir, "daemonctl.json");
  writeFileSync(path, JSON.stringify({ daemons }));
  return path;
}

/** Starts `supervise` as PID 1; resolves to its outside pid once it is up. */
async function supervise(dir: string, args: string[], stdout: "ignore" | "inherit" = "ignore") {
  const env = { ...process.env, DAEMONCTL_RUNTIME_DIR: `${dir}/r`, DAEMONCTL_STATE_DIR: `${dir}/s`, NO_COLOR: "1" };
  const child = spawn("unshare", ["-fp", "--mount-proc", BIN, "supervise", ...args], { cwd: dir, env, stdio: ["ignore", stdout, "ignore"] });
  const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  let pid = 0;
  for (let i = 0; i < 500 && !pid; i++) {
    try {
      pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0]) || 0;
    } catch {
      // not yet
    }
    if (!pid) await sleep(10);
  }
  return { pid, exited, child };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

const results: Record<string, unknown> = {};

if (want("idle")) {
  const dir = tempDir();
  config(dir, Object.fromEntries(["a", "b", "c", "d"].map((n) => [n, { command: ["sleep", "100000"] }])));
  const s = await supervise(dir, []);
  await sleep(3_000); // settle: start-up work (and the post-boot GC) is not idle work
  // Ticks are 10 ms units: measure over 30 s and scale, to see fractions of a tick.
  const t0 = ticks(s.pid);
  await sleep(30_000);
  results.idle = { daemons: 4, cpuTicksPer10s: +((ticks(s.pid) - t0) / 3).toFixed(2), rssMiB: rssMiB(s.pid) };
  process.kill(s.pid, "SIGTERM");
  await s.exited;
  rmSync(dir, { recursive: true, force: true });
}

if (want("prefix")) {
  const dir = tempDir();
  const line = "2026-11-21T10:00:00.000Z INFO request handled path=/api/v1/items status=200 dur=3ms\n";
  const file = join(dir, "input.log");
  writeFileSync(file, line.repeat(Math.ceil((256 * 1024 * 1024) / line.length)));
  const mb = Math.round(Number(spawnSync("stat", ["-c", "%s", file], { encoding: "utf8" }).stdout) / 1048576);
  config(dir, { x: { command: ["cat", file], restart: "no" } });
  const ours: number[] = [];
  const seds: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    const s = await supervise(dir, []);
    await s.exited;
    ours.push(mb / ((performance.now() - t) / 1000));
    t = performance.now();
    spawnSync("sh", ["-c", `cat ${file} | sed 's/^/[x] /' > /dev/null`]);
    seds.push(mb / ((performance.now() - t) / 1000));
  }
  results.prefix = { inputMB: mb, superviseMBps: Math.round(median(ours)), sedMBps: Math.round(median(seds)), ratio: +(median(ours) / median(seds)).toFixed(2) };
  rmSync(dir, { recursive: true, force: true });
}

if (want("shutdown")) {
  const dir = tempDir();
  config(dir, Object.fromEntries(["a", "b", "c", "d"].map((n) => [n, { command: ["sleep", "100000"] }])));
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = await supervise(dir, []);
    await sleep(500);
    const t = performance.now();
    process.kill(s.pid, "SIGTERM");
    await s.exited;
    times.push(performance.now() - t);
  }
  results.shutdown = { daemons: 4, termToExitMedianMs: +median(times).toFixed(1), maxMs: +Math.max(...times).toFixed(1) };
  rmSync(dir, { recursive: true, force: true });
}

console.log(JSON.stringify(results));
