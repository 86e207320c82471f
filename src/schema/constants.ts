/**
 * Names and enumerations of daemonctl's JSON shapes, without zod: the schemas import them, and so
 * can code on the `status` fast path, which never loads zod (see generated/validators.ts).
 */
export const METADATA_SCHEMA = "daemonctl/metadata@1";
export const PLANNED_STOP_SCHEMA = "daemonctl/planned-stop@1";
export const STATE_SCHEMA = "daemonctl/state@1";
export const STATUS_SCHEMA = "daemonctl/status@1";
export const STATUS_LIST_SCHEMA = "daemonctl/status-list@1";
export const EVENT_SCHEMA = "daemonctl/event@1";

export const PROTOCOL_VERSION = 1;
export const METHODS = ["status", "stop", "start", "restart", "signal", "events"] as const;
export type Method = (typeof METHODS)[number];

export const INTENTS = ["running", "stopped"] as const;
export type Intent = (typeof INTENTS)[number];
/** What the host last knew of its child. `exited` = ended and no restart is due (policy said so). */
export const LAST_STATES = ["starting", "running", "backoff", "stopping", "stopped", "failed", "exited"] as const;
export type LastState = (typeof LAST_STATES)[number];

export const STATES = ["running", "starting", "backoff", "stopping", "stopped", "failed", "dead", "hung", "unknown"] as const;
export type DaemonState = (typeof STATES)[number];

export const EVENT_TYPES = ["spawn", "ready", "exit", "restart", "backoff", "failed", "stop", "reclaim", "replace"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const STOP_REASONS = ["stop", "restart", "replace"] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/**
 * The public state of a daemon whose child has ended for good: a clean exit (code 0, no signal)
 * is `stopped`, anything else `failed`. `failed` from the start limit stays `failed`.
 */
export function stateAfterEnd(lastState: "exited" | "failed", lastExit: { code: number | null; signal: string | null } | null): DaemonState {
  if (lastState === "failed") return "failed";
  return lastExit && lastExit.code === 0 && lastExit.signal === null ? "stopped" : "failed";
}

/** LSB `status` exit codes (docs/status.md#states-and-exit-codes-lsb). */
export function statusExitCode(s: { state: DaemonState; ready: boolean | null }): number {
  switch (s.state) {
    case "running":
      return s.ready ? 0 : 4;
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
