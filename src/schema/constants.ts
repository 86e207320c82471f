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
export const METHODS = ["status", "stop", "start", "restart", "signal", "events", "reload"] as const;
export type Method = (typeof METHODS)[number];

export const INTENTS = ["running", "stopped"] as const;
export type Intent = (typeof INTENTS)[number];
/** What the host last knew of its child. `exited` = ended and no restart is due (policy said so). */
export const LAST_STATES = ["starting", "running", "backoff", "stopping", "stopped", "failed", "exited", "done"] as const;
export type LastState = (typeof LAST_STATES)[number];

export const STATES = ["running", "starting", "backoff", "stopping", "stopped", "failed", "dead", "hung", "unknown", "done"] as const;
export type DaemonState = (typeof STATES)[number];

export const EVENT_TYPES = [
  "spawn", "ready", "exit", "restart", "backoff", "failed", "stop", "reclaim", "replace",
  "done", "watchdog", "healthy", "unhealthy", "dependency-restart", "status",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `status --json` `health`: null when the daemon has no health check. */
export const HEALTH_STATES = ["starting", "healthy", "unhealthy"] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

export const STOP_REASONS = ["stop", "restart", "replace"] as const;
export type StopReason = (typeof STOP_REASONS)[number];
