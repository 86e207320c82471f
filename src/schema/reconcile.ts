/** One `reconcile` result per daemon (docs/run-intent.md#daemonctl-reconcile). */
import * as z from "zod/mini";
import { lazySchema } from "./lazy.ts";

export const RECONCILE_ACTIONS = ["started", "left-down", "already-running", "skipped-failed", "start-failed"] as const;
export const reconcileLineSchema = lazySchema(() =>
  z.object({
    name: z.string(),
    prior: z.string(),
    action: z.enum(RECONCILE_ACTIONS),
    error: z.optional(z.string()),
  }),
);
export type ReconcileLine = z.infer<ReturnType<typeof reconcileLineSchema>>;
export const reconcileResultSchema = lazySchema(() => z.array(reconcileLineSchema()));
