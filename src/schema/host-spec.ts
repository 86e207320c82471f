/**
 * What a client passes to the detached host it launches (in $DAEMONCTL_HOST_SPEC, removed
 * before the child inherits the environment). Internal, but checked like every other message.
 */
import * as z from "zod/mini";
import { definitionSchema } from "./definition.ts";
import { lazySchema } from "./lazy.ts";

export const HOST_SPEC_ENV = "DAEMONCTL_HOST_SPEC";

export const hostSpecSchema = lazySchema(() =>
  z.object({
    schema: z.literal("daemonctl/host-spec@1"),
    name: z.string(),
    definition: definitionSchema(),
    identity: z.string(),
    runtimeDir: z.string(),
    stateDir: z.string(),
    probeTimeoutMs: z.int(),
    socketMode: z.nullable(z.int()),
    gid: z.nullable(z.int()),
  }),
);
export type HostSpec = z.infer<ReturnType<typeof hostSpecSchema>>;

/** The environment minus our internal variable: what a child (or a launched host) inherits. */
export function withoutHostSpec(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy[HOST_SPEC_ENV];
  return copy;
}
