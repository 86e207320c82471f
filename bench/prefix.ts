#!/usr/bin/env bun
/**
 * Prefixing throughput: daemonctl's LinePrefixer against `sed 's/^/[x] /'` on the same input
 * (short log-like lines, a little non-ASCII). Prints MB/s for both.
 *
 *   bun bench/prefix.ts [MB]
 */
import { spawnSync } from "node:child_process";
import { writeFileSync, rmSync } from "node:fs";
import { LinePrefixer } from "../src/supervise/output.ts";

const mb = Number(process.argv[2] ?? 200);
const line = "2026-11-21T10:00:00.000Z INFO request handled path=/api/v1/items status=200 dur=3ms ünïcode\n";
const unit = new TextEncoder().encode(line.repeat(Math.ceil(65536 / line.length)));
const chunks = Math.ceil((mb * 1024 * 1024) / unit.length);
const total = chunks * unit.length;

const p = new LinePrefixer(new TextEncoder().encode("[web]    "));
let out = 0;
const t0 = performance.now();
for (let i = 0; i < chunks; i++) out += p.transform(unit).length;
const ms = performance.now() - t0;
const ours = total / 1024 / 1024 / (ms / 1000);

const file = `/tmp/daemonctl-prefix-bench-${process.pid}`;
const buf = new Uint8Array(total);
for (let i = 0; i < chunks; i++) buf.set(unit, i * unit.length);
writeFileSync(file, buf);
const s0 = performance.now();
const sed = spawnSync("sh", ["-c", `sed 's/^/[web]    /' < ${file} > /dev/null`]);
const sedMs = performance.now() - s0;
rmSync(file);
const sedRate = total / 1024 / 1024 / (sedMs / 1000);
console.log(JSON.stringify({ inputMB: Math.round(total / 1048576), daemonctlMBps: Math.round(ours), sedMBps: Math.round(sedRate), ratio: +(ours / sedRate).toFixed(2), sedExit: sed.status, outBytes: out }));
