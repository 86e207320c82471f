/** Lifecycle events (`daemonctl events`, docs/status.md#events), one JSON object per line. */
import * as z from "zod/mini";
import { lazySchema } from "./lazy.ts";

import { EVENT_SCHEMA, EVENT_TYPES } from "./constants.ts";

export { EVENT_SCHEMA, EVENT_TYPES, type EventType } from "./constants.ts";

export const eventSchema = lazySchema(() =>
  z.object({
    schema: z.literal(EVENT_SCHEMA),
    ts: z.string(),
    name: z.string(),
    type: z.enum(EVENT_TYPES),
    pid: z.nullable(z.int()),
    code: z.nullable(z.int()),
    signal: z.nullable(z.string()),
    restarts: z.nullable(z.int()),
    delayMs: z.nullable(z.number()),
    /** Added in 0.3: what a human needs beyond the fields (a health check's output, a dependency's name). */
    message: z.optional(z.nullable(z.string())),
  }),
);
export type DaemonEvent = z.infer<ReturnType<typeof eventSchema>>;
