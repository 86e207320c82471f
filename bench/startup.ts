#!/usr/bin/env bun
/**
 * Start-up cost (issue: `status NAME --json` median within 2x a compiled hello world, measured
 * in the same run; cold `start` with ready `none` <= 200 ms median).
 *
 *   bun bench/startup.ts [runs]
 */
import { rmSync } from "node:fs";
import { BIN, buildHello, compare, median, spawnSync, tempDir, timeOnce } from "./lib.ts";

const runs = Number(process.argv[2] ?? 200);
const dir = tempDir();
const env = { ...process.env, DAEMONCTL_RUNTIME_DIR: `${dir}/r`, DAEMONCTL_STATE_DIR: `${dir}/s` };
try {
  const hello = buildHello(dir);
  spawnSync(BIN, ["start", "web", "-q", "--", "sleep", "100000"], { env });
  const m = compare({ hello: [hello, []], statusJson: [BIN, ["status", "web", "--json"]], version: [BIN, ["--version"]] }, runs, env);

  const cold: number[] = [];
  for (let i = 0; i < 30; i++) {
    const name = `cold${i}`;
    cold.push(timeOnce(BIN, ["start", name, "-q", "--", "sleep", "100000"], env));
  }
  spawnSync(BIN, ["stop", "--all", "-q"], { env });
  console.log(
    JSON.stringify({
      runs,
      helloMs: m.hello,
      statusJsonMs: m.statusJson,
      statusOverHello: +(m.statusJson! / m.hello!).toFixed(2),
      versionMs: m.version,
      coldStartMedianMs: +median(cold).toFixed(1),
      coldStartMaxMs: +Math.max(...cold).toFixed(1),
    }),
  );
} finally {
  spawnSync(BIN, ["stop", "--all", "-q"], { env });
  rmSync(dir, { recursive: true, force: true });
}
