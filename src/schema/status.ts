/**
 * `status --json` (docs/status.md#daemonctl-status-name---json): every field always present,
 * null when unknown.
 */
import * as z from "zod/mini";
import { exitInfoSchema } from "./common.ts";
import { lazySchema } from "./lazy.ts";
import { HEALTH_STATES, INTENTS, STATES, STATUS_LIST_SCHEMA, STATUS_SCHEMA } from "./constants.ts";

export { STATUS_SCHEMA, STATUS_LIST_SCHEMA, STATES, type DaemonState } from "./constants.ts";

export const statusSchema = lazySchema(() =>
  z.object({
    schema: z.literal(STATUS_SCHEMA),
    name: z.string(),
    state: z.enum(STATES),
    ready: z.nullable(z.boolean()),
    intent: z.nullable(z.enum(INTENTS)),
    pid: z.nullable(z.int()),
    pidIdentity: z.nullable(z.string()),
    socketPath: z.nullable(z.string()),
    startedAt: z.nullable(z.string()),
    uptimeMs: z.nullable(z.number()),
    identity: z.nullable(z.string()),
    fresh: z.nullable(z.boolean()),
    child: z.nullable(
      z.object({
        pid: z.nullable(z.int()),
        startedAt: z.nullable(z.string()),
        restarts: z.int(),
        lastExit: z.nullable(exitInfoSchema()),
        /** Added in 0.3: the main process the daemon named with MAINPID= over NOTIFY_SOCKET. */
        mainPid: z.optional(z.nullable(z.int())),
      }),
    ),
    logPath: z.nullable(z.string()),
    version: z.nullable(z.string()),
    protocolVersion: z.nullable(z.int()),
    error: z.nullable(z.object({ code: z.string(), message: z.string() })),
    // Added in 0.3 (optional, so a newer client still reads an older host's answer).
    /** The last `STATUS=` the daemon sent over NOTIFY_SOCKET. */
    statusText: z.optional(z.nullable(z.string())),
    health: z.optional(z.nullable(z.enum(HEALTH_STATES))),
    /** The last health check: when, whether it passed, and what it said (trimmed). */
    healthCheck: z.optional(z.nullable(z.object({ at: z.string(), healthy: z.boolean(), output: z.string(), failures: z.int() }))),
  }),
);
export type Status = z.infer<ReturnType<typeof statusSchema>>;

export const statusListSchema = lazySchema(() =>
  z.object({
    schema: z.literal(STATUS_LIST_SCHEMA),
    daemons: z.array(statusSchema()),
  }),
);
