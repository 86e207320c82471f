#!/usr/bin/env bun
/**
 * Control socket throughput (issue 19: 32 clients ≥ 25k req/s, p99 < 5 ms): N clients, each on
 * its own connection, send `status` requests back to back for a while; prints req/s and latency
 * percentiles. The clients share this one process, so on a small machine the figure is a floor.
 *
 *   bun bench/socket.ts [clients] [seconds]   (starts and stops its own daemon)
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ControlClient } from "../src/daemon/wire/client.ts";
import { BIN, spawnSync, tempDir } from "./lib.ts";

export async function socketThroughput(sock: string, clients: number, ms: number): Promise<{ reqPerS: number; p50Ms: number; p99Ms: number }> {
  const conns = await Promise.all(Array.from({ length: clients }, () => ControlClient.open(sock, 2000)));
  const lat: number[] = [];
  const end = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      if (!(c instanceof ControlClient)) throw new Error(`connect: ${c.code}`);
      while (performance.now() < end) {
        const t = performance.now();
        const r = await c.request("status", undefined, 5000);
        if (r.kind !== "ok") throw new Error(`status: ${r.kind}`);
        lat.push(performance.now() - t);
      }
      c.close();
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]!;
  return { reqPerS: lat.length / secs, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

if (import.meta.main) {
  const clients = Number(process.argv[2] ?? 32);
  const secs = Number(process.argv[3] ?? 5);
  const dir = tempDir();
  const env = { ...process.env, DAEMONCTL_RUNTIME_DIR: `${dir}/r`, DAEMONCTL_STATE_DIR: `${dir}/s` };
  try {
    spawnSync(BIN, ["start", "web", "-q", "--", "sleep", "100000"], { env });
    const r = await socketThroughput(join(dir, "r/web.sock"), clients, secs * 1000);
    console.log(JSON.stringify({ clients, reqPerS: Math.round(r.reqPerS), p50Ms: +r.p50Ms.toFixed(2), p99Ms: +r.p99Ms.toFixed(2) }));
  } finally {
    spawnSync(BIN, ["stop", "--all", "-q"], { env });
    rmSync(dir, { recursive: true, force: true });
  }
}
