/** `S/NAME.state.json`: run intent, definition and history; survives container restarts (SPEC §2, §4). */
import * as z from "zod/mini";
import { exitInfo, isoTime } from "./common.ts";
import { definition } from "./definition.ts";

export const STATE_SCHEMA = "daemonctl/state@1";
export const INTENTS = ["running", "stopped"] as const;
/** What the host last knew of its child. `exited` = ended and no restart is due (policy said so). */
export const LAST_STATES = ["starting", "running", "backoff", "stopping", "stopped", "failed", "exited"] as const;

export const state = z.looseObject({
  schema: z.literal(STATE_SCHEMA),
  name: z.string(),
  intent: z.enum(INTENTS),
  lastState: z.nullable(z.enum(LAST_STATES)),
  definition: z.nullable(definition),
  identity: z.nullable(z.string()),
  restarts: z.int(),
  lastExit: z.nullable(exitInfo),
  updatedAt: isoTime,
});
export type State = z.infer<typeof state>;
export type Intent = (typeof INTENTS)[number];
export type LastState = (typeof LAST_STATES)[number];
