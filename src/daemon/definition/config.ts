/**
 * Finding, reading and validating `daemonctl.json`.
 *
 * Validation reports every bad field at once, each as `FILE: path.in.file: what was expected`,
 * because fixing one error per run is how people learn to hate a tool.
 */
import { dependencyLevels } from "./dependencies.ts";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import * as z from "zod/mini";
import { configSchema, type Config } from "../../schema/config.ts";
import { UsageError } from "../../errors.ts";

export interface LoadedConfig {
  path: string;
  dir: string;
  config: Config;
}

function readConfigText(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `config file ${path} does not exist` : `cannot read config file ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
}

let localeLoaded = false;

/** Loads and validates the whole config; throws UsageError listing every problem. */
export function loadConfig(path: string): LoadedConfig {
  const raw = readConfigText(path);
  if (!localeLoaded) {
    z.config(z.locales.en());
    localeLoaded = true;
  }
  const parsed = configSchema().safeParse(raw);
  if (!parsed.success) throw new UsageError(formatIssues(path, parsed.error.issues));
  const daemons = parsed.data.daemons;
  const order = dependencyLevels(new Map(Object.entries(daemons).map(([n, d]) => [n, d.dependsOn ?? []])), new Set(Object.keys(daemons)));
  if ("problem" in order) throw new UsageError(`invalid config (1 problem):\n${path}: ${order.problem.message}`);
  return { path, dir: dirname(path), config: parsed.data };
}

export function formatIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    const where = issue.path.length ? issue.path.map(String).join(".") : "(top level)";
    let message = issue.message;
    if (issue.code === "unrecognized_keys") {
      const keys = (issue as { keys: string[] }).keys;
      return `${file}: ${[...issue.path.map(String), keys.join(",")].join(".")}: unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")} (check the spelling; see \`daemonctl schema config\`)`;
    }
    if (issue.code === "invalid_key") {
      const inner = (issue as { issues?: z.core.$ZodIssue[] }).issues?.[0]?.message;
      return `${file}: ${where}: invalid name${inner ? `: ${inner}` : ""}`;
    }
    if (issue.code === "invalid_union" && "errors" in issue) {
      // Say what each alternative wanted rather than zod's generic "Invalid input".
      const alts = (issue.errors as z.core.$ZodIssue[][]).flat().map((i) => i.message.replace(/^Invalid input: /, ""));
      message = `expected ${[...new Set(alts)].join(" or ")}`;
    }
    return `${file}: ${where}: ${message}`;
  });
  return `invalid config (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`;
}

export { findConfigPath } from "./locate.ts";
