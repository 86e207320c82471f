#!/usr/bin/env bun
/**
 * The runtime's floors under issue 19's targets: the least a compiled Bun program can do for each
 * figure (bench/floors/*.ts, built with daemonctl's own flags), measured beside daemonctl in one
 * interleaved run. A target below its floor cannot be met in this runtime by any code of ours.
 *
 *   bun bench/floors.ts [status|prefix|memory]…   (root: supervise runs as PID 1 via unshare)
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, ROOT, buildHello, compare, median, sleep, spawn, spawnSync, tempDir } from "./lib.ts";

const which = process.argv.slice(2);
const want = (k: string) => which.length === 0 || which.includes(k);
const dir = tempDir();
const env = { ...process.env, DAEMONCTL_RUNTIME_DIR: `${dir}/r`, DAEMONCTL_STATE_DIR: `${dir}/s`, NO_COLOR: "1" };

/** Compiled as build.ts compiles daemonctl. */
function buildFloor(name: string): string {
  const out = join(dir, `floor-${name}`);
  const r = spawnSync(process.execPath, ["build", "--compile", "--minify", "--bytecode", "--format=esm", "--compile-exec-argv=--smol", join(ROOT, "bench/floors", `${name}.ts`), "--outfile", out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

function memory(pid: number): { rssMiB: number; anonMiB: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? -1024);
  return { rssMiB: +(kb("Rss") / 1024).toFixed(1), anonMiB: +(kb("Anonymous") / 1024).toFixed(1) };
}

const results: Record<string, unknown> = {};
try {
  if (want("status")) {
    const hello = buildHello(dir);
    const floor = buildFloor("status");
    spawnSync(BIN, ["start", "web", "-q", "--", "sleep", "100000"], { env });
    const m = compare({ hello: [hello, []], floor: [floor, []], daemonctl: [BIN, ["status", "web", "--json"]] }, 100, env);
    results.status = { helloMs: m.hello, floorOverHello: +(m.floor! / m.hello!).toFixed(2), daemonctlOverHello: +(m.daemonctl! / m.hello!).toFixed(2), target: 1.5 };
    spawnSync(BIN, ["stop", "web", "-q"], { env });
  }

  if (want("prefix")) {
    const copy = buildFloor("copy");
    const input = join(dir, "input.log");
    const line = "2026-11-21T10:00:00.000Z INFO request handled path=/api/v1/items status=200 dur=3ms\n";
    writeFileSync(input, line.repeat(Math.ceil((128 * 1024 * 1024) / line.length)));
    const mb = 128;
    writeFileSync(join(dir, "daemonctl.json"), JSON.stringify({ daemons: { x: { command: ["cat", input], restart: "no" } } }));
    // coreutils doing the same work in C: the log file alone (tee), and prefix plus log (sed | tee).
    const runs: Record<string, number[]> = { sed: [], copyNoLog: [], copyLog: [], daemonctl: [], teeLog: [], sedTeeLog: [] };
    const timed = (cmd: string, args: string[]) => {
      const t = performance.now();
      spawnSync(cmd, args, { env, cwd: dir, stdio: ["ignore", "ignore", "ignore"] });
      return mb / ((performance.now() - t) / 1000);
    };
    for (let i = 0; i < 5; i++) {
      runs.sed!.push(timed("sh", ["-c", `cat ${input} | sed 's/^/[x] /' > /dev/null`]));
      runs.copyNoLog!.push(timed("sh", ["-c", `${copy} ${input} - > /dev/null`]));
      runs.copyLog!.push(timed("sh", ["-c", `${copy} ${input} ${dir}/copy.log > /dev/null`]));
      runs.teeLog!.push(timed("sh", ["-c", `cat ${input} | tee ${dir}/tee.log > /dev/null`]));
      runs.sedTeeLog!.push(timed("sh", ["-c", `cat ${input} | sed 's/^/[x] /' | tee ${dir}/tee.log > /dev/null`]));
      rmSync(`${dir}/s`, { recursive: true, force: true });
      runs.daemonctl!.push(timed("sh", ["-c", `unshare -fp --mount-proc ${BIN} supervise > /dev/null`]));
    }
    const sed = median(runs.sed!);
    results.prefix = {
      sedMBps: Math.round(sed),
      floorNoLog: +(median(runs.copyNoLog!) / sed).toFixed(2),
      floorWithLog: +(median(runs.copyLog!) / sed).toFixed(2),
      daemonctl: +(median(runs.daemonctl!) / sed).toFixed(2),
      coreutilsTeeLog: +(median(runs.teeLog!) / sed).toFixed(2),
      coreutilsSedTeeLog: +(median(runs.sedTeeLog!) / sed).toFixed(2),
      target: 1.5,
    };
  }

  if (want("memory")) {
    const host = buildFloor("host");
    const sup = buildFloor("supervisor");
    const slow = { ...env, BUN_GC_TIMER_INTERVAL: "30000" };
    for (const d of ["h", "s"]) spawnSync("mkdir", ["-p", join(dir, d)]);
    const floorHost = spawn(host, [join(dir, "h")], { env: slow, stdio: "ignore" });
    const floorSup = spawn(sup, [join(dir, "s")], { env: slow, stdio: "ignore" });
    spawnSync(BIN, ["start", "web", "-q", "--", "sleep", "100000"], { env });
    writeFileSync(join(dir, "daemonctl.json"), JSON.stringify({ daemons: Object.fromEntries(["a", "b", "c", "d"].map((n) => [n, { command: ["sleep", "100000"] }])) }));
    const sup2 = { ...env, DAEMONCTL_RUNTIME_DIR: `${dir}/r2`, DAEMONCTL_STATE_DIR: `${dir}/s2` };
    const ours = spawn("unshare", ["-fp", "--mount-proc", BIN, "supervise"], { cwd: dir, env: sup2, stdio: "ignore" });
    await sleep(8_000);
    const hostPid = JSON.parse(readFileSync(`${dir}/r/web.json`, "utf8")).pid as number;
    const supPid = Number(readFileSync(`/proc/${ours.pid}/task/${ours.pid}/children`, "utf8").trim().split(" ")[0]);
    results.memory = {
      host: { floor: memory(floorHost.pid!), daemonctl: memory(hostPid), targetAnonMiB: 5 },
      supervisor4: { floor: memory(floorSup.pid!), daemonctl: memory(supPid), targetRssMiB: 40 },
    };
    for (const p of [floorHost, floorSup, ours]) p.kill("SIGTERM");
    spawnSync(BIN, ["stop", "web", "-q"], { env });
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
