/**
 * The record a lock holder writes into `R/NAME.json.lock` / `R/NAME.json.bind` once it has the
 * `flock`. A waiter reads it to learn who holds the lock; it trusts it only after /proc/locks
 * confirms that this very pid holds a flock on the file (see daemon/lock.ts).
 */
import * as z from "zod/mini";
import { lazySchema } from "./lazy.ts";

export const LOCK_HOLDER_SCHEMA = "daemonctl/lock-holder@1";

/** `host`: a standalone host; `supervisor`: `supervise`, which serves many daemons; `client`: a command. */
export const LOCK_ROLES = ["host", "supervisor", "client"] as const;
export type LockRole = (typeof LOCK_ROLES)[number];

export const lockHolderSchema = lazySchema(() =>
  z.looseObject({
    schema: z.literal(LOCK_HOLDER_SCHEMA),
    pid: z.int().check(z.positive()),
    /** Process start identity (boot id + start time): proves the pid was not reused. */
    identity: z.string(),
    role: z.enum(LOCK_ROLES),
  }),
);
export type LockHolder = z.infer<ReturnType<typeof lockHolderSchema>>;
