/**
 * Where a daemon's definition comes from (docs/configuration.md#where-a-definition-comes-from),
 * first that applies: `-- CMD ARGS` plus flags; the NAME entry of the config file; the definition
 * stored by the last start. Flags given alongside a config or stored definition override its
 * fields.
 */
import { completeDefinition, definitionInputSchema, millisecondsAsInput, type Definition, type DefinitionInput } from "../../schema/definition.ts";
import { stateSchema } from "../../schema/state.ts";
import { INVALID, parseDefinitionInput } from "../../schema/generated/definition-validators.ts";
import { UsageError, closest } from "../../errors.ts";
import { formatIssues, loadConfig, type LoadedConfig } from "./config.ts";
import { procfileInputs, type ProcfileEntry } from "./procfile.ts";
import { definitionIdentity } from "./freshness.ts";
import { describeEnvFileProblem, readEnvFiles } from "./envfile.ts";
import { absolutePath, daemonFiles, type Dirs } from "../state/paths.ts";
import { readJsonOrNull } from "../state/store.ts";

export type DefinitionSource = "command-line" | "config" | "state" | "procfile";

export interface ResolvedDefinition {
  name: string;
  definition: Definition;
  identity: string;
  source: DefinitionSource;
}

export interface DefinitionRequest {
  name: string;
  /** argv after `--`, if any. */
  command?: string[] | undefined;
  /** Definition fields given as flags (paths already absolute). */
  overrides: Partial<DefinitionInput>;
  config: LoadedConfig | null;
  dirs: Dirs;
  /** `--definition`: a whole definition (input form); `command` and `overrides` win over its keys. */
  base?: Record<string, unknown> | undefined;
}

const resolvePath = (base: string, p: string) => absolutePath(p, base);

/**
 * Turns a stored (complete) definition back into input form so flags can overlay it. Its
 * durations are milliseconds, and stay so: in input form a bare number would mean seconds.
 */
export function definitionToInput(def: Definition): DefinitionInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def)) if (v !== null) out[k] = v;
  return millisecondsAsInput(out);
}

/**
 * A valid definition takes the generated validator (building the zod schema costs a cold client
 * ~5 ms); anything it does not accept goes to the zod schema, which has the final word and words
 * the problem.
 */
function validate(name: string, input: unknown, origin: string, baseDir: string): Definition {
  const fast = parseDefinitionInput(input);
  if (fast !== INVALID) return completeDefinition(fast, baseDir, resolvePath);
  const parsed = definitionInputSchema().safeParse(input);
  if (!parsed.success) {
    if (origin === "command line") throw new UsageError(parsed.error.issues.map((i) => flagIssue(i, input)).join("\n"));
    if (origin === "--definition") throw new UsageError(parsed.error.issues.map((i) => definitionIssue(i, input)).join("\n"));
    throw new UsageError(formatIssues(origin, parsed.error.issues.map((i) => ({ ...i, path: ["daemons", name, ...i.path] })), { daemons: { [name]: input } }));
  }
  return completeDefinition(parsed.data, baseDir, resolvePath);
}

/**
 * Env files are read now, so a missing file or a bad line is a usage error (exit 2) before
 * anything starts, named by where the file was given: `--env-file: PATH:LINE: …`, or a config
 * problem `FILE: daemons.NAME.envFile: PATH:LINE: …`.
 */
function checkEnvFiles(def: Definition, where: string | { config: string }): void {
  if (!def.envFile) return;
  const read = readEnvFiles(def.envFile);
  if (!("problem" in read)) return;
  const problem = describeEnvFileProblem(read.problem);
  if (typeof where === "string") throw new UsageError(`${where}: ${problem}`);
  throw new UsageError(`invalid config (1 problem):\n${where.config}: ${problem}`);
}

const configKey = (path: string, name: string) => ({ config: `${path}: daemons.${name}.envFile` });

/**
 * A definition built from flags is wrong because of a flag: name it and the value given
 * (`--restart: "sometimes" is not valid; use no, on-failure, always`), not a config path.
 */
function flagIssue(issue: { path: PropertyKey[]; message: string; values?: unknown[] }, input: unknown): string {
  const key = String(issue.path[0] ?? "");
  if (key === "command") return `the command after --: ${issue.message}`;
  const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  let flag = `--${kebab(key)}`;
  let value = (input as Record<string, unknown>)[key];
  // `health` comes from --health CHECK and its --health-* tuning: name the one flag at fault.
  const sub = issue.path[1];
  if (key === "health" && typeof sub === "string") {
    flag = sub === "check" ? "--health" : `--health-${kebab(sub)}`;
    value = (value as Record<string, unknown>)[sub];
  }
  const hint = issue.values?.length ? `use ${issue.values.join(", ")}` : issue.message;
  return `${flag}: ${JSON.stringify(value)} is not valid; ${hint}`;
}

/** `--definition: restart: "sometimes" is not valid; use no, on-failure, always`. */
type Issue = { path: PropertyKey[]; message: string; values?: unknown[]; code?: string; keys?: string[]; expected?: string; minimum?: unknown; origin?: string };

/** What is wrong, in words: zod/mini's own message is only "Invalid input" for most issues. */
function issueHint(issue: Issue): string {
  if (issue.values?.length) return `use ${issue.values.join(", ")}`;
  if (issue.code === "invalid_type" && issue.expected) return `expected ${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
  if (issue.code === "too_small" && issue.minimum !== undefined) {
    const unit = issue.origin === "array" ? "item" : issue.origin === "string" ? "character" : "";
    return unit ? `needs at least ${String(issue.minimum)} ${unit}${issue.minimum === 1 ? "" : "s"}` : `must be at least ${String(issue.minimum)}`;
  }
  return issue.message;
}

function definitionIssue(issue: Issue, input: unknown): string {
  const key = issue.path.map(String).join(".") || "(the object)";
  if (issue.code === "unrecognized_keys" && issue.keys) {
    // Its name, not the whole object: a typo (`stopTimout`) or a key of another shape (`name`).
    const where = issue.path.length ? `${key}: ` : "";
    const guesses = issue.path.length ? [] : issue.keys.flatMap((k) => closest(k, definitionKeys()) ?? []).map((k) => `"${k}"`);
    const hint = guesses.length ? ` (did you mean ${guesses.join(", ")}?)` : !issue.path.length && issue.keys.includes("name") ? " (the name is the NAME argument, not a key)" : "";
    return `--definition: ${where}unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}${hint}`;
  }
  let value: unknown = input;
  for (const k of issue.path) value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[k] : undefined;
  if (value === undefined) return `--definition: ${key}: ${issue.code === "invalid_type" && issue.expected ? `missing (${issue.expected} expected)` : issue.message}`;
  return `--definition: ${key}: ${JSON.stringify(value)} is not valid; ${issueHint(issue)}`;
}

/** A definition's top-level keys, from its schema (the one list of them). */
function definitionKeys(): string[] {
  return Object.keys((definitionInputSchema()._zod.def as unknown as { shape: Record<string, unknown> }).shape);
}

/** Flags override the fields they name; `--health-*` the health keys they name, not the whole check. */
function overlay(base: DefinitionInput, overrides: Partial<DefinitionInput>): DefinitionInput {
  const out = { ...base, ...overrides };
  if (base.health && overrides.health) out.health = { ...base.health, ...overrides.health };
  return out;
}

export function resolveDefinition(req: DefinitionRequest): ResolvedDefinition {
  const { name, overrides } = req;
  let definition: Definition;
  let source: DefinitionSource;
  if (req.base) {
    const input = { ...overlay(req.base as DefinitionInput, overrides), ...(req.command?.length ? { command: req.command } : {}) };
    definition = validate(name, input, "--definition", process.cwd());
    source = "command-line";
    checkEnvFiles(definition, "--definition");
  } else if (req.command && req.command.length > 0) {
    definition = validate(name, { ...overrides, command: req.command }, "command line", process.cwd());
    source = "command-line";
    checkEnvFiles(definition, "--env-file");
  } else if (req.config?.config.daemons[name]) {
    const entry = readConfigEntry(req.config, name);
    definition = validate(name, overlay(entry, overrides), req.config.path, req.config.dir);
    source = "config";
    checkEnvFiles(definition, overrides.envFile !== undefined ? "--env-file" : configKey(req.config.path, name));
  } else {
    const stored = readJsonOrNull(daemonFiles(req.dirs, name).state, stateSchema())?.definition;
    if (!stored) {
      throw new UsageError(
        `no definition for "${name}": give a command (daemonctl start ${name} -- CMD ARGS), ` +
          `add "${name}" under "daemons" in the config file (--config, $DAEMONCTL_CONFIG or ./daemonctl.json), ` +
          `or start it once with a command so its definition is stored in ${daemonFiles(req.dirs, name).state}`,
      );
    }
    definition = validate(name, overlay(definitionToInput(stored), overrides), "stored definition", stored.cwd);
    source = "state";
    checkEnvFiles(definition, overrides.envFile !== undefined ? "--env-file" : `stored definition ${daemonFiles(req.dirs, name).state}: definition.envFile`);
  }
  return { name, definition, identity: definitionIdentity(definition), source };
}

/**
 * The config entry in input form. The loaded config holds parsed values, durations in
 * milliseconds; written as "Nms" they re-validate to the same values.
 */
function readConfigEntry(loaded: LoadedConfig, name: string): DefinitionInput {
  return millisecondsAsInput(loaded.config.daemons[name]!);
}

/** Every daemon of a config file as a complete definition (for `supervise`). */
export function configDefinitions(loaded: LoadedConfig): ResolvedDefinition[] {
  return Object.keys(loaded.config.daemons).map((name) => {
    const definition = validate(name, readConfigEntry(loaded, name), loaded.path, loaded.dir);
    checkEnvFiles(definition, configKey(loaded.path, name));
    return { name, definition, identity: definitionIdentity(definition), source: "config" as const };
  });
}

export { loadConfig };

/**
 * Every entry of a Procfile as a complete definition, validated like any other. Flags
 * (`start --procfile --restart always`) overlay each entry; `--env` adds to its `PORT`.
 */
export function procfileDefinitions(
  procfile: { path: string; dir: string; entries: ProcfileEntry[] },
  portBase: number,
  overrides: Partial<DefinitionInput> = {},
): ResolvedDefinition[] {
  const inputs = procfileInputs(procfile.entries, portBase, procfile.dir);
  if ("problem" in inputs) throw new UsageError(`${procfile.path}:${inputs.problem.line}: ${inputs.problem.message}`);
  return inputs.map(({ entry, input }) => {
    const merged = { ...overlay(input, overrides), env: { ...input.env, ...overrides.env } };
    const definition = validate(entry.name, merged, "command line", procfile.dir);
    return { name: entry.name, definition, identity: definitionIdentity(definition), source: "procfile" as const };
  });
}
