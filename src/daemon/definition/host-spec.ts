/**
 * The host spec: everything a host process needs to run one daemon, built in one place for both
 * the detached host `start` launches and `start --foreground`.
 */
import { hostSpecSchema, type HostSpec } from "../../schema/host-spec.ts";
import { INVALID, parseHostSpec } from "../../schema/generated/definition-validators.ts";
import type { Dirs } from "../state/paths.ts";
import type { Sharing } from "../state/sharing.ts";
import type { ResolvedDefinition } from "./source.ts";

export function hostSpecFor(resolved: ResolvedDefinition, dirs: Dirs, sharing: Sharing, probeTimeoutMs: number): HostSpec {
  const spec = {
    schema: "daemonctl/host-spec@1",
    name: resolved.name,
    definition: resolved.definition,
    identity: resolved.identity,
    runtimeDir: dirs.runtimeDir,
    stateDir: dirs.stateDir,
    probeTimeoutMs,
    socketMode: sharing.socketMode,
    gid: sharing.gid ?? null,
  };
  // The generated validator spares building the zod schema; zod still has the final word.
  const fast = parseHostSpec(spec);
  return fast !== INVALID ? fast : hostSpecSchema().parse(spec);
}
