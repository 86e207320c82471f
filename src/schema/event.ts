/** Lifecycle events (`daemonctl events`, SPEC §6), one JSON object per line. */
import * as z from "zod/mini";
import { isoTime } from "./common.ts";

export const EVENT_SCHEMA = "daemonctl/event@1";
export const EVENT_TYPES = ["spawn", "ready", "exit", "restart", "backoff", "failed", "stop", "reclaim", "replace"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const event = z.object({
  schema: z.literal(EVENT_SCHEMA),
  ts: isoTime,
  name: z.string(),
  type: z.enum(EVENT_TYPES),
  pid: z.nullable(z.int()),
  code: z.nullable(z.int()),
  signal: z.nullable(z.string()),
  restarts: z.nullable(z.int()),
  delayMs: z.nullable(z.number()),
});
export type DaemonEvent = z.infer<typeof event>;
