#!/usr/bin/env bun
/**
 * Where a cold `start` (ready none) spends its time: runs it with DAEMONCTL_TRACE (src/trace.ts)
 * and prints the median time from the client's exec to each traced step, client and host on one
 * clock. Method and figures: bench/README.md.
 *
 *   bun bench/coldstart.ts [runs]
 */
import { readFileSync, rmSync } from "node:fs";
import { BIN, median, spawnSync, tempDir } from "./lib.ts";

const runs = Number(process.argv[2] ?? 30);
const dir = tempDir();
const env = { ...process.env, DAEMONCTL_RUNTIME_DIR: `${dir}/r`, DAEMONCTL_STATE_DIR: `${dir}/s` };
const steps = new Map<string, number[]>();
try {
  for (let i = 0; i < runs; i++) {
    const file = `${dir}/trace${i}`;
    spawnSync(BIN, ["start", `cold${i}`, "-q", "--", "sleep", "100000"], { env: { ...env, DAEMONCTL_TRACE: file }, stdio: "ignore" });
    // The host traces asynchronously after `start` returned (at most a state write): let it.
    spawnSync("sleep", ["0.05"]);
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => {
      const [at, pid, ...label] = l.split(" ");
      return { at: Number(at), pid, label: label.join(" ") };
    });
    const t0 = lines[0]!.at;
    const seen = new Set<string>();
    for (const { at, label } of lines.sort((a, b) => a.at - b.at)) {
      // Repeated labels (status polls, state writes) are numbered so each keeps its place.
      let key = label;
      for (let n = 2; seen.has(key); n++) key = `${label} #${n}`;
      seen.add(key);
      if (!steps.has(key)) steps.set(key, []);
      steps.get(key)!.push(at - t0);
    }
  }
  const rows = [...steps].filter(([, v]) => v.length >= runs / 2).map(([k, v]) => [k, median(v)] as const).sort((a, b) => a[1] - b[1]);
  for (const [k, ms] of rows) console.log(`${ms.toFixed(1).padStart(7)} ms  ${k}`);
} finally {
  spawnSync(BIN, ["stop", "--all", "-q"], { env });
  rmSync(dir, { recursive: true, force: true });
}
