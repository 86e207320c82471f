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

/**
 * The environment minus daemonctl's own marks: what a child (or a launched host) inherits. A
 * `daemonctl start` run from inside daemon A carries A's name and invocation id; a host launched
 * with them would look like A's own process to reclaim, and stopping A would kill it.
 */
export function withoutHostSpec(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy[HOST_SPEC_ENV];
  delete copy.DAEMONCTL_NAME;
  delete copy.DAEMONCTL_INVOCATION;
  return copy;
}
