/**
 * The rules host and client share, as pure functions (unit-tested without processes, and free of
 * zod for the status fast path): restart policy arithmetic (`restart`, `backoff`, `startLimit` in
 * docs/configuration.md#daemon-definition-keys), exit codes, public state after an end.
 */
import { normalizeSignal, signalNumber } from "../schema/units.ts";
import type { DaemonState } from "../schema/constants.ts";

export type RestartPolicy = "no" | "on-failure" | "always";

export interface ExitOutcome {
  code: number | null;
  signal: string | null;
}

/** `on-failure` restarts on a non-zero exit or a death by signal; `always` on any exit. */
export function shouldRestart(policy: RestartPolicy, exit: ExitOutcome): boolean {
  if (policy === "always") return true;
  if (policy === "no") return false;
  return exit.signal !== null || (exit.code ?? 1) !== 0;
}

/** Exponential backoff: `initial`, doubling per consecutive failure, capped at `max`. */
export function backoffDelay(consecutiveFailures: number, initial: number, max: number): number {
  const n = Math.max(1, consecutiveFailures);
  return Math.min(max, initial * 2 ** Math.min(n - 1, 30));
}

/** At most `burst` starts within a sliding `interval`; beyond that the daemon is `failed`. */
export class StartLimiter {
  private starts: number[] = [];

  constructor(
    private readonly burst: number,
    private readonly interval: number,
  ) {}

  record(now: number): void {
    this.starts.push(now);
  }

  /** Would one more start now exceed the limit? */
  exhausted(now: number): boolean {
    this.starts = this.starts.filter((t) => now - t < this.interval);
    return this.starts.length >= this.burst;
  }

  reset(): void {
    this.starts = [];
  }
}

/** Exit code 0 and no signal: a clean end (a oneshot's success, a daemon that simply finished). */
export function cleanExit(exit: ExitOutcome | null | undefined): boolean {
  return exit != null && exit.code === 0 && exit.signal === null;
}

/** An exit as a shell would report it: the code, or 128+N for a death by signal N. */
export function shellExitCode(exit: ExitOutcome): number {
  if (exit.code !== null) return exit.code;
  const sig = exit.signal ? normalizeSignal(exit.signal) : null;
  return sig ? 128 + signalNumber(sig) : 1;
}

/**
 * The public state of a daemon whose child has ended for good: a clean exit (code 0, no signal)
 * is `stopped`, anything else `failed`. `failed` from the start limit stays `failed`.
 */
export function stateAfterEnd(lastState: "exited" | "failed" | "done", lastExit: { code: number | null; signal: string | null } | null): DaemonState {
  if (lastState === "failed") return "failed";
  if (lastState === "done") return "done";
  return cleanExit(lastExit) ? "stopped" : "failed";
}

/**
 * LSB `status` exit codes (docs/status.md#states-and-exit-codes-lsb). A running daemon whose
 * health check fails exits 1, as Docker's HEALTHCHECK expects of an unhealthy container.
 */
export function statusExitCode(s: { state: DaemonState; ready: boolean | null; health?: string | null | undefined }): number {
  switch (s.state) {
    case "running":
      if (s.health === "unhealthy") return 1;
      return s.ready ? 0 : 4;
    case "done":
      return 0;
    case "dead":
    case "failed":
    case "backoff":
      return 1;
    case "stopped":
      return 3;
    default:
      return 4;
  }
}
