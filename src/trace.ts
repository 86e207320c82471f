/**
 * Start-up tracing for bench/coldstart.ts: with DAEMONCTL_TRACE=FILE every process appends
 * `EPOCH_MS PID LABEL` lines to FILE, so one cold `start` (client, host) can be laid out on one
 * clock. Off (one environment lookup) otherwise. Not a log: labels are for the benchmark only.
 */
import { appendFileSync } from "node:fs";

const file = process.env.DAEMONCTL_TRACE || null;
let first = true;

export function trace(label: string): void {
  if (file === null) return;
  if (first) {
    first = false;
    line(performance.timeOrigin, `exec ${process.argv.slice(2, 3).join(" ")}`);
  }
  line(performance.timeOrigin + performance.now(), label);
}

function line(at: number, label: string): void {
  try {
    appendFileSync(file!, `${at.toFixed(3)} ${process.pid} ${label}\n`);
  } catch {
    // tracing must never change what it traces
  }
}
