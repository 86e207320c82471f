/**
 * Signal plumbing. Handlers go through `process.on`, which both runtimes support; sending goes
 * through `process.kill`. Callers verify identities before they call `sendSignal` on a pid they
 * read from a file (see daemon/identity.ts).
 */
import { isBun } from "./runtime.ts";
import { signalNumber, type SignalName } from "../schema/units.ts";

/** Signals no JavaScript handler can take in Bun: they would kill us instead of reaching JS. */
export const BUN_UNCATCHABLE = new Set<SignalName>(["SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV", "SIGSYS", "SIGSTKFLT", "SIGPWR"]);
/** Signals Deno refuses to bind at all. */
export const DENO_UNCATCHABLE = new Set<SignalName>(["SIGILL", "SIGFPE", "SIGSEGV", "SIGKILL", "SIGSTOP"]);
export const NEVER_CATCHABLE = new Set<SignalName>(["SIGKILL", "SIGSTOP", "SIGCHLD"]);

export function canHandle(sig: SignalName): boolean {
  if (NEVER_CATCHABLE.has(sig)) return false;
  return isBun ? !BUN_UNCATCHABLE.has(sig) : !DENO_UNCATCHABLE.has(sig);
}

/** Installs a handler; returns a function that removes it. */
export function onSignal(sig: SignalName, handler: (sig: SignalName) => void): () => void {
  const fn = () => handler(sig);
  process.on(sig, fn);
  return () => void process.off(sig, fn);
}

/**
 * `kill(pid, sig)` that reports success instead of throwing. Negative pid = process group.
 * Never 0 or -1 (or a non-integer): kill(0) is our own group, kill(-1) every process we may
 * signal. (1 is fine: a container's host may well be PID 1.)
 */
export function sendSignal(pid: number, sig: SignalName | number): boolean {
  if (!Number.isInteger(pid) || pid === 0 || pid === -1) return false;
  try {
    process.kill(pid, sig as NodeJS.Signals);
    return true;
  } catch {
    return false;
  }
}

export { signalNumber };
