/** `status --json` (SPEC §6): every field always present, null when unknown. */
import * as z from "zod/mini";
import { exitInfo, isoTime } from "./common.ts";
import { INTENTS } from "./state.ts";

export const STATUS_SCHEMA = "daemonctl/status@1";
export const STATUS_LIST_SCHEMA = "daemonctl/status-list@1";
export const STATES = ["running", "starting", "backoff", "stopping", "stopped", "failed", "dead", "hung", "unknown"] as const;
export type DaemonState = (typeof STATES)[number];

export const status = z.object({
  schema: z.literal(STATUS_SCHEMA),
  name: z.string(),
  state: z.enum(STATES),
  ready: z.nullable(z.boolean()),
  intent: z.nullable(z.enum(INTENTS)),
  pid: z.nullable(z.int()),
  pidIdentity: z.nullable(z.string()),
  socketPath: z.nullable(z.string()),
  startedAt: z.nullable(isoTime),
  uptimeMs: z.nullable(z.number()),
  identity: z.nullable(z.string()),
  fresh: z.nullable(z.boolean()),
  child: z.nullable(
    z.object({
      pid: z.nullable(z.int()),
      startedAt: z.nullable(isoTime),
      restarts: z.int(),
      lastExit: z.nullable(exitInfo),
    }),
  ),
  logPath: z.nullable(z.string()),
  version: z.nullable(z.string()),
  protocolVersion: z.nullable(z.int()),
  error: z.nullable(z.object({ code: z.string(), message: z.string() })),
});
export type Status = z.infer<typeof status>;

export const statusList = z.object({
  schema: z.literal(STATUS_LIST_SCHEMA),
  daemons: z.array(status),
});
export type StatusList = z.infer<typeof statusList>;

/** LSB `status` exit codes (SPEC §6). */
export function statusExitCode(s: Pick<Status, "state" | "ready">): number {
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
