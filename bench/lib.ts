/** Small helpers shared by the benchmarks: build, time, summarise. */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");
/** DAEMONCTL_BIN compares another build (e.g. a copy of the one before a change). */
export const BIN = process.env.DAEMONCTL_BIN ?? join(ROOT, "dist/daemonctl");

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function tempDir(prefix = "dct-bench-"): string {
  return mkdtempSync(join("/tmp", prefix));
}

/** A compiled Bun hello world, built with the same flags as daemonctl, as the start-up yardstick. */
export function buildHello(dir: string): string {
  const src = join(dir, "hello.ts");
  writeFileSync(src, 'console.log("hello");\n');
  const out = join(dir, "hello");
  const r = spawnSync(process.execPath, ["build", "--compile", "--minify", "--bytecode", "--format=esm", src, "--outfile", out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

/** Wall time of one run of `cmd` in ms (spawnSync; the same overhead for every command timed). */
export function timeOnce(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: "ignore" });
  const ms = performance.now() - t;
  if (r.status === null) throw new Error(`${cmd} died`);
  return ms;
}

/** Interleaves the commands run by run, so drifting machine load hits them equally. */
export function compare(cmds: Record<string, [string, string[]]>, runs: number, env?: NodeJS.ProcessEnv): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < runs + 5; i++) {
    for (const [k, [c, a]] of Object.entries(cmds)) {
      const ms = timeOnce(c, a, env);
      if (i >= 5) samples[k]!.push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, +median(v).toFixed(2)]));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of `pid`, in clock ticks (10 ms); 0 once it is gone. */
export function ticks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

export function sh(script: string, env?: NodeJS.ProcessEnv): string {
  return spawnSync("sh", ["-c", script], { env, encoding: "utf8" }).stdout;
}

export { spawn, spawnSync };
