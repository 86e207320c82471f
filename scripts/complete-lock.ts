#!/usr/bin/env bun
/**
 * Restores package-lock.json entries for Deno's per-platform binaries (@deno/darwin-arm64, …).
 *
 * `npm ci` refuses a lock that lacks any optional dependency of a locked package. A registry
 * mirror that carries only this machine's Deno binary makes `npm install` write exactly such a
 * lock. These entries are what npm writes against the full registry; on a machine whose OS or
 * CPU does not match, `npm ci` skips them without fetching anything.
 *
 *   bun scripts/complete-lock.ts    (after any `npm install`)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const path = join(import.meta.dir, "../package-lock.json");
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, Record<string, unknown>> };
const deno = lock.packages["node_modules/deno"] as { version: string; optionalDependencies?: Record<string, string> };
let added = 0;
for (const name of Object.keys(deno.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const [, platform = ""] = name.split("/");
  const [os, cpu, libc] = platform.split("-");
  lock.packages[key] = {
    version: deno.version,
    resolved: `https://registry.npmjs.org/${name}/-/${platform}-${deno.version}.tgz`,
    cpu: [cpu],
    dev: true,
    ...(libc ? { libc: [libc] } : {}),
    license: "MIT",
    optional: true,
    os: [os],
  };
  added++;
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.error(`complete-lock: ${added} entr${added === 1 ? "y" : "ies"} added`);
