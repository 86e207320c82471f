#!/usr/bin/env node
// `daemonctl` installed through npm: finds the real binary as the library does (DAEMONCTL_BIN,
// the platform package, PATH without this launcher's own directory) and runs it. For an
// ENTRYPOINT or anything that signals it, run the binary itself: a launcher is one more process.
import { spawnSync } from "node:child_process";
import { dirname, delimiter } from "node:path";
import { fileURLToPath } from "node:url";
import { findBinary, BinaryNotFoundError } from "../lib/index.js";

const own = dirname(fileURLToPath(import.meta.url));
const PATH = (process.env.PATH ?? "").split(delimiter).filter((d) => d && d !== own && !d.endsWith("node_modules/.bin")).join(delimiter);
let bin;
try {
  bin = findBinary(undefined, { ...process.env, PATH });
} catch (e) {
  if (!(e instanceof BinaryNotFoundError)) throw e;
  console.error(`daemonctl: ${e.message}`);
  process.exit(127);
}
const r = spawnSync(bin, process.argv.slice(2), { stdio: "inherit" });
if (r.error) {
  console.error(`daemonctl: cannot run ${bin}: ${r.error.message}`);
  process.exit(126);
}
if (r.signal) process.kill(process.pid, r.signal);
process.exit(r.status ?? 1);
