/**
 * `R/NAME.stop.json`: written by `stop`/`restart` before they signal a host
 * (docs/run-intent.md#why-a-marker).
 */
import * as z from "zod/mini";
import { lazySchema } from "./lazy.ts";

import { PLANNED_STOP_SCHEMA, STOP_REASONS } from "./constants.ts";

export { PLANNED_STOP_SCHEMA, STOP_REASONS, type StopReason } from "./constants.ts";

export const plannedStopSchema = lazySchema(() =>
  z.looseObject({
    schema: z.literal(PLANNED_STOP_SCHEMA),
    name: z.string(),
    /** The host this marker is meant for. */
    pid: z.int().check(z.positive()),
    pidIdentity: z.string(),
    stopperPid: z.int(),
    reason: z.enum(STOP_REASONS),
    at: z.string(),
  }),
);
export type PlannedStop = z.infer<ReturnType<typeof plannedStopSchema>>;
