#!/usr/bin/env node
// `daemonctl` installed through npm: finds the real binary as the library does (DAEMONCTL_BIN,
// the platform package, PATH without this launcher) and runs it. For an ENTRYPOINT or anything
// that signals it, run the binary itself: a launcher is one more process.
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { dirname, delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findBinary, BinaryNotFoundError } from "../lib/index.js";

// Set in the environment of what this launcher runs: a launcher whose parent is a launcher was
// found on PATH in place of the binary (a shim or wrapper the realpath test below cannot see),
// and running the next one would go on forever.
const GUARD = "DAEMONCTL_NPM_LAUNCHER_PID";

const self = fileURLToPath(import.meta.url);
const own = dirname(self);
if (process.env[GUARD] === String(process.ppid)) {
  console.error(`daemonctl: the daemonctl found on PATH is this npm launcher again, not the binary; install the platform package (npm install without --omit=optional), set DAEMONCTL_BIN to a daemonctl binary, or put the binary on PATH`);
  process.exit(127);
}
const isThisLauncher = (dir) => {
  try {
    return realpathSync(join(dir, "daemonctl")) === realpathSync(self);
  } catch {
    return false;
  }
};
// A global install links this file into a bin directory on PATH (npm i -g): that is not the binary.
const PATH = (process.env.PATH ?? "").split(delimiter).filter((d) => d && d !== own && !d.endsWith("node_modules/.bin") && !isThisLauncher(d)).join(delimiter);
let bin;
try {
  bin = findBinary(undefined, { ...process.env, PATH });
} catch (e) {
  if (!(e instanceof BinaryNotFoundError)) throw e;
  console.error(`daemonctl: ${e.message}`);
  process.exit(127);
}
const r = spawnSync(bin, process.argv.slice(2), { stdio: "inherit", env: { ...process.env, [GUARD]: String(process.pid) } });
if (r.error) {
  console.error(`daemonctl: cannot run ${bin}: ${r.error.message}`);
  process.exit(126);
}
if (r.signal) process.kill(process.pid, r.signal);
process.exit(r.status ?? 1);
