/**
 * The zod schemas of every JSON shape daemonctl reads or writes (zod/mini; build each with its
 * function: `statusSchema().parse(x)`), and their `z.infer` types. The same source as the CLI's
 * `daemonctl schema NAME`.
 */
export { statusSchema, statusListSchema, type Status } from "../schema/status.ts";
export { eventSchema, type DaemonEvent } from "../schema/event.ts";
export { definitionInputSchema, definitionSchema, type DefinitionInput, type Definition } from "../schema/definition.ts";
export { configSchema, type Config } from "../schema/config.ts";
export { metadataSchema, type Metadata } from "../schema/metadata.ts";
export { stateSchema, type State } from "../schema/state.ts";
export { plannedStopSchema, type PlannedStop } from "../schema/planned-stop.ts";
export { lockHolderSchema, type LockHolder } from "../schema/lock-holder.ts";
export { requestSchema, responseSchema, eventMessageSchema, type Request, type Response, type EventMessage, type ReloadResult } from "../schema/protocol.ts";
export { reconcileResultSchema } from "../schema/reconcile.ts";
