/**
 * `R/NAME.json`: who owns the control socket (docs/how-it-works.md#files). Written by the host
 * right after it binds, and again before and after every spawn.
 */
import * as z from "zod/mini";
import { lazySchema } from "./lazy.ts";

import { METADATA_SCHEMA } from "./constants.ts";

export { METADATA_SCHEMA } from "./constants.ts";

/** A child process: its pid, start identity, and the invocation id placed in its environment. */
const childRef = () => z.object({ pid: z.int().check(z.positive()), identity: z.string(), invocation: z.nullable(z.string()) });

export const metadataSchema = lazySchema(() =>
  z.looseObject({
    schema: z.literal(METADATA_SCHEMA),
    name: z.string(),
    pid: z.int().check(z.positive()),
    /** Process start identity (boot id + start time): proves the pid was not reused. */
    pidIdentity: z.string(),
    socketPath: z.string(),
    /**
     * The unique path the socket was bound at before being renamed into place. /proc/net/unix
     * reports this name, which lets a reclaimer prove a pid really holds this daemon's socket.
     * Null when the file was reconciled from a status answer; the host restores it.
     */
    bindPath: z.nullable(z.string()),
    startedAt: z.string(),
    /** Definition identity (freshness hash) the host runs. */
    identity: z.string(),
    /** The current child, so a reclaiming host can kill an orphan after verifying it. */
    child: z.nullable(childRef()),
    /**
     * The invocation id of a child being spawned: written before the spawn, cleared once `child`
     * records it (or the spawn failed). A host killed in between leaves a child that carries this
     * id in its environment, so reclaim still finds it. Absent in files from older versions.
     */
    pendingInvocation: z.optional(z.nullable(z.string())),
    /**
     * True when the host is a `supervise` process serving many daemons: it is never signalled on
     * behalf of one daemon. Null when unknown (reconciled from a status answer): treated as true.
     */
    supervised: z.optional(z.nullable(z.boolean())),
    version: z.string(),
    protocolVersion: z.int(),
  }),
);
export type Metadata = z.infer<ReturnType<typeof metadataSchema>>;
