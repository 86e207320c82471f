/**
 * `S/NAME.state.json`: run intent, definition and history; survives container restarts
 * (docs/run-intent.md, docs/how-it-works.md#files).
 */
import * as z from "zod/mini";
import { exitInfoSchema } from "./common.ts";
import { definitionSchema } from "./definition.ts";
import { lazySchema } from "./lazy.ts";

import { INTENTS, LAST_STATES, STATE_SCHEMA } from "./constants.ts";

export { STATE_SCHEMA, INTENTS, LAST_STATES, type Intent, type LastState } from "./constants.ts";

export const stateSchema = lazySchema(() =>
  z.looseObject({
    schema: z.literal(STATE_SCHEMA),
    name: z.string(),
    intent: z.enum(INTENTS),
    lastState: z.nullable(z.enum(LAST_STATES)),
    definition: z.nullable(definitionSchema()),
    identity: z.nullable(z.string()),
    restarts: z.int(),
    lastExit: z.nullable(exitInfoSchema()),
    /** A `once` oneshot that succeeded: with this definition identity it is not run again. */
    completed: z.optional(z.nullable(z.object({ identity: z.string(), at: z.string() }))),
    updatedAt: z.string(),
  }),
);
export type State = z.infer<ReturnType<typeof stateSchema>>;
