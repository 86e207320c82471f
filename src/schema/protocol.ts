/** Control protocol messages (SPEC §8): newline-delimited JSON over the daemon's Unix socket. */
import * as z from "zod/mini";
import { event } from "./event.ts";

export const PROTOCOL_VERSION = 1;
export const METHODS = ["status", "stop", "start", "restart", "signal", "events"] as const;
export type Method = (typeof METHODS)[number];

export const requestId = z.union([z.int(), z.string().check(z.maxLength(128))]);

export const request = z.object({
  id: requestId,
  method: z.string(),
  params: z.optional(z.record(z.string(), z.unknown())),
  protocol: z.literal(PROTOCOL_VERSION),
});
export type Request = z.infer<typeof request>;

export const errorBody = z.object({ code: z.string(), message: z.string() });

export const response = z.union([
  z.object({ id: z.nullable(requestId), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.nullable(requestId), ok: z.literal(false), error: errorBody }),
]);
export type Response = z.infer<typeof response>;

/** Streamed after a successful `events` subscription, tagged with the subscribing request's id. */
export const eventMessage = z.object({ id: requestId, event });
export type EventMessage = z.infer<typeof eventMessage>;

export const stopParams = z.object({ reason: z.optional(z.enum(["stop", "restart", "replace"])) });
export const signalParams = z.object({ signal: z.union([z.string(), z.int()]) });
/** `start`/`restart` may carry a new definition (a supervisor then replaces in place). */
export const startParams = z.object({ definition: z.optional(z.unknown()), identity: z.optional(z.string()) });
export const stopResult = z.object({ stopping: z.boolean(), hostExits: z.boolean() });
