/** `R/NAME.stop.json`: written by `stop`/`restart` before they signal a host (SPEC §4). */
import * as z from "zod/mini";
import { isoTime, processIdentity } from "./common.ts";

export const PLANNED_STOP_SCHEMA = "daemonctl/planned-stop@1";
export const STOP_REASONS = ["stop", "restart", "replace"] as const;

export const plannedStop = z.looseObject({
  schema: z.literal(PLANNED_STOP_SCHEMA),
  name: z.string(),
  /** The host this marker is meant for. */
  pid: z.int().check(z.positive()),
  pidIdentity: processIdentity,
  stopperPid: z.int(),
  reason: z.enum(STOP_REASONS),
  at: isoTime,
});
export type PlannedStop = z.infer<typeof plannedStop>;
export type StopReason = (typeof STOP_REASONS)[number];
