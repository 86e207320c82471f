/**
 * Control protocol messages (docs/protocol.md): newline-delimited JSON over the daemon's Unix
 * socket.
 */
import * as z from "zod/mini";
import { eventSchema } from "./event.ts";
import { lazySchema } from "./lazy.ts";

import { PROTOCOL_VERSION, STOP_REASONS } from "./constants.ts";

export { PROTOCOL_VERSION, METHODS, type Method } from "./constants.ts";

const requestId = () => z.union([z.int(), z.string()]);

export const requestSchema = lazySchema(() =>
  z.object({
    id: requestId(),
    method: z.string(),
    params: z.optional(z.record(z.string(), z.unknown())),
    protocol: z.literal(PROTOCOL_VERSION),
  }),
);
export type Request = z.infer<ReturnType<typeof requestSchema>>;

const errorBody = () => z.object({ code: z.string(), message: z.string() });

export const responseSchema = lazySchema(() =>
  z.union([
    z.object({ id: z.nullable(requestId()), ok: z.literal(true), result: z.unknown() }),
    z.object({ id: z.nullable(requestId()), ok: z.literal(false), error: errorBody() }),
  ]),
);
export type Response = z.infer<ReturnType<typeof responseSchema>>;

/** Streamed after a successful `events` subscription, tagged with the subscribing request's id. */
export const eventMessageSchema = lazySchema(() => z.object({ id: requestId(), event: eventSchema() }));
export type EventMessage = z.infer<ReturnType<typeof eventMessageSchema>>;

export const stopParamsSchema = lazySchema(() => z.object({ reason: z.optional(z.enum(STOP_REASONS)) }));
export const signalParamsSchema = lazySchema(() => z.object({ signal: z.union([z.string(), z.int()]), group: z.optional(z.boolean()) }));
/** `start`/`restart` may carry a new definition (a supervisor then replaces in place). */
export const startParamsSchema = lazySchema(() => z.object({ definition: z.optional(z.unknown()), identity: z.optional(z.string()) }));
/** `events` replays retained events newer than `since` (ISO time) before streaming live ones. */
export const eventsParamsSchema = lazySchema(() => z.object({ since: z.optional(z.string()), follow: z.optional(z.boolean()) }));
/** `reload` (supervised hosts only): re-read the supervisor's config and apply the difference. */
export const reloadParamsSchema = lazySchema(() => z.object({ dryRun: z.optional(z.boolean()) }));
/** What a reload did (or, with dryRun, would do), by daemon name. */
export const reloadResultSchema = lazySchema(() =>
  z.object({
    dryRun: z.boolean(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
    unchanged: z.array(z.string()),
  }),
);
export type ReloadResult = z.infer<ReturnType<typeof reloadResultSchema>>;
export const stopResultSchema = lazySchema(() => z.object({ stopping: z.boolean(), hostExits: z.boolean() }));
