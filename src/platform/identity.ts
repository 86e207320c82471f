/**
 * Process identity: a pid plus proof that it is still the same process.
 *
 * A pid read from a file may belong to a process that died long ago and whose number the kernel
 * has since handed to something else. Every liveness report and every signal to such a pid goes
 * through this module, which compares the recorded start identity with the live one and treats
 * zombies as dead.
 */
import { pollUntil } from "../poll.ts";
import { bootId, bootIdAsync, readProcStat, readProcStatAsync, type ProcStat } from "./proc.ts";
import { sendSignal } from "./signals.ts";
import type { SignalName } from "../schema/common.ts";

/** The identity a stat line gives: none for a gone process or a zombie (a zombie is dead). */
function identityFrom(st: ProcStat | null, boot: string): string | null {
  if (!st || st.state === "Z" || st.state === "X") return null;
  return `${boot}:${st.startTime}`;
}

/** `<boot id>:<start time>`, or null when the process is gone or a zombie. */
export function identityOf(pid: number): string | null {
  return identityFrom(readProcStat(pid), bootId());
}

/** `identityOf()` for the status fast path (no node:fs). */
async function identityOfAsync(pid: number): Promise<string | null> {
  const [st, boot] = await Promise.all([readProcStatAsync(pid), bootIdAsync()]);
  return identityFrom(st, boot);
}

export async function isSameProcessAsync(pid: number | null | undefined, identity: string | null | undefined): Promise<boolean> {
  if (!pid || !identity) return false;
  return (await identityOfAsync(pid)) === identity;
}

export function selfIdentity(): string {
  return identityOf(process.pid) ?? `${bootId()}:self-${process.pid}`;
}

/** True only if `pid` is alive, not a zombie, and is the very process `identity` was taken from. */
export function isSameProcess(pid: number | null | undefined, identity: string | null | undefined): boolean {
  if (!pid || !identity) return false;
  return identityOf(pid) === identity;
}

/**
 * Is `pid` the process `identity` names, and stopped by a signal (SIGSTOP/SIGTSTP: `T`)? A
 * stopped process runs nothing, not even its signal handlers, until SIGCONT. A tracer's stop
 * (`t`: someone is debugging it at a breakpoint) does not count: that process is not abandoned.
 */
export function isStopped(pid: number, identity: string): boolean {
  const st = readProcStat(pid);
  return identityFrom(st, bootId()) === identity && st!.state === "T";
}

/** Sends `sig` to `pid` only after verifying its identity. Returns whether a signal was sent. */
export function signalVerified(pid: number, identity: string, sig: SignalName): boolean {
  if (!isSameProcess(pid, identity)) return false;
  return sendSignal(pid, sig);
}

/**
 * Signals the process group led by `pid` (our children are session and group leaders), after
 * verifying the leader. When the leader is gone we cannot prove the group is still ours, so only
 * the owner of a just-exited child (who knows the timeline) may use `signalOwnGroup`.
 */
export function signalGroupVerified(pid: number, identity: string, sig: SignalName): boolean {
  if (!isSameProcess(pid, identity)) return false;
  return sendSignal(-pid, sig);
}

/** Signals the group of a child this process spawned itself; no identity check possible or needed. */
export function signalOwnGroup(pgid: number, sig: SignalName): boolean {
  return sendSignal(-pgid, sig);
}

/** Polls until `pid` is no longer the process `identity` names (dead, zombie or reused). */
export function waitForDeath(pid: number, identity: string, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  return pollUntil(() => !isSameProcess(pid, identity), timeoutMs, { firstMs: intervalMs });
}
