/**
 * What config-mode `supervise` runs (the daemons of the config file or of a Procfile): which
 * daemons (`--only`, `DAEMONCTL_DAEMONS`), in what dependency order, with which grace period. Every problem is a usage error (exit 2) before
 * anything starts.
 */
import type { LoadedConfig } from "../daemon/definition/config.ts";
import { configDefinitions, type ResolvedDefinition } from "../daemon/definition/source.ts";
import { UsageError } from "../errors.ts";
import { DURATION_HINT, parseDuration } from "../schema/units.ts";
import { dependencyLevels, selectDaemons } from "./order.ts";

export interface SupervisionPlan {
  definitions: ResolvedDefinition[];
  /** Start levels (`dependsOn`): each level starts once the one before it is ready. */
  levels: string[][];
  graceMs: number;
}

export interface PlanInputs {
  /** `--only`, else `$DAEMONCTL_DAEMONS`: a comma-separated subset. */
  only: string | undefined;
  /** `--grace`, already parsed; it wins over `$DAEMONCTL_GRACE` and the config's `grace`. */
  graceFlagMs: number | undefined;
  envGrace: string | undefined;
  warn(message: string): void;
}

const DEFAULT_GRACE_MS = 8_000;

/**
 * The daemons to supervise and where they were defined (a config file or a Procfile, named in
 * messages), with the config's `grace` when there is a config.
 */
export interface DaemonSource {
  path: string;
  definitions: ResolvedDefinition[];
  configGraceMs: number | undefined;
}

/**
 * A Procfile's entries when given (the config, if any, gives only its grace), else the config's
 * daemons; null with neither. The same rule at start-up and at each reload.
 */
export function daemonSource(config: LoadedConfig | null, procfile: { path: string; definitions: ResolvedDefinition[] } | null): DaemonSource | null {
  if (procfile) return { path: procfile.path, definitions: procfile.definitions, configGraceMs: config?.config.grace };
  if (!config) return null;
  return { path: config.path, definitions: configDefinitions(config), configGraceMs: config.config.grace };
}

export function planSupervision(source: DaemonSource, o: PlanInputs): SupervisionPlan {
  const definitions = selectedDefinitions(source, o);
  const all = new Set(source.definitions.map((d) => d.name));
  const order = dependencyLevels(new Map(definitions.map((d) => [d.name, d.definition.dependsOn])), all);
  if ("problem" in order) throw new UsageError(`${source.path}: ${order.problem.message}`);
  return { definitions, levels: order.levels, graceMs: graceOf(source, o) };
}

function selectedDefinitions(source: DaemonSource, o: PlanInputs): ResolvedDefinition[] {
  const all = source.definitions;
  const { selected, unknown } = selectDaemons(all.map((d) => d.name), o.only);
  for (const u of unknown) o.warn(`--only/DAEMONCTL_DAEMONS names "${u}", which ${source.path} does not define; ignoring it`);
  if (selected.length === 0) throw new UsageError(`no daemons to supervise: ${source.path} defines ${all.length ? all.map((d) => d.name).join(", ") : "none"}`);
  return all.filter((d) => selected.includes(d.name));
}

function graceOf(source: DaemonSource, o: PlanInputs): number {
  if (o.graceFlagMs !== undefined) return o.graceFlagMs;
  return envGraceMs(o.envGrace) ?? source.configGraceMs ?? DEFAULT_GRACE_MS;
}

/** `$DAEMONCTL_GRACE`, validated the same way in both modes of `supervise`; undefined when unset. */
export function envGraceMs(envGrace: string | undefined): number | undefined {
  if (!envGrace) return undefined;
  const ms = parseDuration(envGrace);
  if (ms === null) throw new UsageError(`DAEMONCTL_GRACE: "${envGrace}" is not a duration; ${DURATION_HINT}`);
  return ms;
}
