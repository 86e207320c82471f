/**
 * A daemon definition (docs/configuration.md#daemon-definition-keys): what to run and how to keep
 * it running.
 *
 * `definitionInput` is what people write (config file, CLI flags); `Definition` is the parsed,
 * defaulted form that hosts run, stores persist and freshness hashes.
 */
import * as z from "zod/mini";
import { byteSizeSchema, daemonNameSchema, durationSchema, signalNameSchema } from "./common.ts";
import { CALLBACKS, withDelayUnit } from "./checks.ts";
import { lazySchema } from "./lazy.ts";

export const RESTART_POLICIES = ["no", "on-failure", "always"] as const;
export const ON_EXIT = ["ignore", "shutdown"] as const;
export const DAEMON_TYPES = ["longrun", "oneshot"] as const;
export const HEALTH_ON_FAILURE = ["restart", "none"] as const;
export { MIN_WATCHDOG_MS, healthCheckProblem, readinessProblem } from "./checks.ts";

const healthCheckSchema = () => z.string().check(z.superRefine(CALLBACKS.checkHealthCheck));

export const readinessSpecSchema = lazySchema(() => z.string().check(z.superRefine(CALLBACKS.checkReadiness)));

/** A path, or `-PATH` for an optional file (as systemd's EnvironmentFile=-PATH). */
const envFilePathSchema = () =>
  z.string().check(z.refine(CALLBACKS.isEnvFilePath, "a file path (a leading \"-\" makes it optional)"));

const userOrGroup = () => z.union([z.string().check(z.minLength(1)), z.int().check(z.minimum(0))]);

export const definitionInputSchema = lazySchema(() => {
  const duration = durationSchema();
  return z.strictObject({
  command: z.array(z.string()).check(z.minLength(1, "a non-empty argv array, for example [\"python3\", \"-m\", \"http.server\"]")),
  cwd: z.optional(z.string()),
  env: z.optional(z.record(z.string(), z.string())),
  watch: z.optional(z.array(z.string())),
  envFile: z.optional(z.union([envFilePathSchema(), z.array(envFilePathSchema())])),
  ready: z.optional(z.pipe(readinessSpecSchema(), z.transform(CALLBACKS.readyDelayInSeconds))),
  readyTimeout: z.optional(duration),
  restart: z.optional(z.enum(RESTART_POLICIES)),
  backoff: z.optional(
    z.strictObject({ initial: z.optional(duration), max: z.optional(duration), resetAfter: z.optional(duration) }),
  ),
  startLimit: z.optional(
    z.strictObject({ burst: z.optional(z.int().check(z.minimum(1))), interval: z.optional(duration) }),
  ),
  onExit: z.optional(z.enum(ON_EXIT)),
  notify: z.optional(z.array(z.string()).check(z.minLength(1))),
  stopSignal: z.optional(signalNameSchema()),
  stopTimeout: z.optional(duration),
  dependsOn: z.optional(z.array(daemonNameSchema())),
  autostart: z.optional(z.boolean()),
  user: z.optional(userOrGroup()),
  group: z.optional(userOrGroup()),
  log: z.optional(z.strictObject({ maxSize: z.optional(byteSizeSchema()), maxFiles: z.optional(z.int().check(z.minimum(1))) })),
  type: z.optional(z.enum(DAEMON_TYPES)),
  once: z.optional(z.boolean()),
  watchdog: z.optional(z.pipe(duration, z.transform(CALLBACKS.watchdogAtLeastMinimum))),
  health: z.optional(
    z.strictObject({
      check: healthCheckSchema(),
      interval: z.optional(duration),
      timeout: z.optional(duration),
      retries: z.optional(z.int().check(z.minimum(1))),
      startPeriod: z.optional(duration),
      onFailure: z.optional(z.enum(HEALTH_ON_FAILURE)),
    }),
  ),
  restartWith: z.optional(z.boolean()),
  }).check(z.superRefine(CALLBACKS.checkOnceNeedsOneshot));
});
export type DefinitionInput = z.input<ReturnType<typeof definitionInputSchema>>;

/** The fully defaulted definition: every field present, durations in milliseconds. */
export const definitionSchema = lazySchema(() =>
  z.object({
  command: z.array(z.string()).check(z.minLength(1)),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  watch: z.array(z.string()),
  ready: readinessSpecSchema(),
  readyTimeout: z.int(),
  restart: z.enum(RESTART_POLICIES),
  backoff: z.object({ initial: z.int(), max: z.int(), resetAfter: z.int() }),
  startLimit: z.object({ burst: z.int(), interval: z.int() }),
  onExit: z.enum(ON_EXIT),
  notify: z.nullable(z.array(z.string())),
  stopSignal: z.string(),
  stopTimeout: z.int(),
  dependsOn: z.array(z.string()),
  autostart: z.boolean(),
  user: z.nullable(z.union([z.string(), z.int()])),
  group: z.nullable(z.union([z.string(), z.int()])),
  log: z.object({ maxSize: z.int(), maxFiles: z.int() }),
  // Added in 0.3: absent means the default (longrun, no watchdog, no health check), so the
  // identity of a definition written before them does not change.
  type: z.optional(z.enum(DAEMON_TYPES)),
  once: z.optional(z.boolean()),
  watchdog: z.optional(z.int()),
  health: z.optional(
    z.object({
      check: z.string(),
      interval: z.int(),
      timeout: z.int(),
      retries: z.int(),
      startPeriod: z.int(),
      onFailure: z.enum(HEALTH_ON_FAILURE),
    }),
  ),
  restartWith: z.optional(z.boolean()),
  // Added in 0.4, absolute paths with the optional "-" kept; absent when there is none (see type).
  envFile: z.optional(z.array(z.string())),
  }),
);
export type Definition = z.infer<ReturnType<typeof definitionSchema>>;

export const DEFAULTS = {
  ready: "none",
  readyTimeout: 10_000,
  restart: "on-failure",
  backoff: { initial: 100, max: 30_000, resetAfter: 60_000 },
  startLimit: { burst: 5, interval: 60_000 },
  onExit: "ignore",
  stopSignal: "SIGTERM",
  stopTimeout: 8_000,
  log: { maxSize: 10 * 1024 * 1024, maxFiles: 5 },
  /** Docker's HEALTHCHECK defaults. */
  health: { interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0, onFailure: "restart" },
} as const;

export type HealthSpec = NonNullable<Definition["health"]>;

/** A oneshot runs to completion: exit 0 is `done`, not an end to restart from. */
export function isOneshot(def: Pick<Definition, "type">): boolean {
  return def.type === "oneshot";
}

/**
 * Durations already in milliseconds (a stored definition, a parsed config entry) in the input
 * form, where a bare number means seconds: `"1500ms"`, so re-validating them is lossless.
 */
export function millisecondsAsInput(parsed: object): DefinitionInput {
  const ms = (v: unknown) => (typeof v === "number" ? `${v}ms` : v);
  const out: Record<string, unknown> = { ...parsed };
  for (const k of ["readyTimeout", "stopTimeout", "watchdog"]) if (out[k] !== undefined) out[k] = ms(out[k]);
  for (const [group, keys] of [["backoff", ["initial", "max", "resetAfter"]], ["startLimit", ["interval"]], ["health", ["interval", "timeout", "startPeriod"]]] as const) {
    const inner = out[group] as Record<string, unknown> | undefined;
    if (!inner) continue;
    out[group] = Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, (keys as readonly string[]).includes(k) ? ms(v) : v]));
  }
  if (typeof out.ready === "string") out.ready = withDelayUnit("ms")(out.ready);
  return out as DefinitionInput;
}

export type ParsedDefinitionInput = z.output<ReturnType<typeof definitionInputSchema>>;

/** Env file paths made absolute against `baseDir`, the optional `-` kept in front. */
function resolveEnvFiles(input: string | string[] | undefined, baseDir: string, resolvePath: (base: string, p: string) => string): string[] {
  const list = input === undefined ? [] : typeof input === "string" ? [input] : input;
  return list.map((p) => (p.startsWith("-") ? `-${resolvePath(baseDir, p.slice(1))}` : resolvePath(baseDir, p)));
}

/** Applies defaults; `cwd`, relative watch and env file paths resolve against `baseDir`. */
export function completeDefinition(input: ParsedDefinitionInput, baseDir: string, resolvePath: (base: string, p: string) => string): Definition {
  const envFile = resolveEnvFiles(input.envFile, baseDir, resolvePath);
  return {
    command: input.command,
    cwd: resolvePath(baseDir, input.cwd ?? "."),
    env: input.env ?? {},
    watch: (input.watch ?? []).map((p) => resolvePath(baseDir, p)),
    ready: input.ready ?? DEFAULTS.ready,
    readyTimeout: input.readyTimeout ?? DEFAULTS.readyTimeout,
    restart: input.restart ?? DEFAULTS.restart,
    backoff: { ...DEFAULTS.backoff, ...stripUndefined(input.backoff ?? {}) },
    startLimit: { ...DEFAULTS.startLimit, ...stripUndefined(input.startLimit ?? {}) },
    onExit: input.onExit ?? DEFAULTS.onExit,
    notify: input.notify ?? null,
    stopSignal: input.stopSignal ?? DEFAULTS.stopSignal,
    stopTimeout: input.stopTimeout ?? DEFAULTS.stopTimeout,
    dependsOn: input.dependsOn ?? [],
    autostart: input.autostart ?? true,
    user: input.user ?? null,
    group: input.group ?? null,
    log: { ...DEFAULTS.log, ...stripUndefined(input.log ?? {}) },
    // Only when not the default: see definitionSchema.
    ...(input.type === "oneshot" ? { type: "oneshot" as const } : {}),
    ...(input.once ? { once: true } : {}),
    ...(input.watchdog !== undefined ? { watchdog: input.watchdog } : {}),
    ...(input.health ? { health: { ...DEFAULTS.health, ...stripUndefined(input.health), check: input.health.check } } : {}),
    ...(input.restartWith ? { restartWith: true } : {}),
    ...(envFile.length ? { envFile } : {}),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
