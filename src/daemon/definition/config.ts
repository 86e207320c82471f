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
import { UsageError, closest } from "../../errors.ts";

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
    const at = jsonSyntaxErrorAt(text);
    const pos = at === null ? null : lineColumn(text, at);
    throw new UsageError(`${path}${pos ? `:${pos.line}:${pos.column}` : ""}: not valid JSON${pos ? ` at line ${pos.line}, column ${pos.column}` : ""}: ${(e as Error).message}`);
  }
}

/** 1-based line and column (in characters) of an offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const nl = before.lastIndexOf("\n");
  return { line: before.split("\n").length, column: offset - nl };
}

/**
 * Where JSON.parse gave up: the offset of the first character that cannot continue valid JSON
 * (text.length when it ends too early), or null when the text is valid. Bun's JSON errors carry
 * no position, and a config is edited by hand: "line 7, column 3" is what finds the stray comma.
 */
export function jsonSyntaxErrorAt(text: string): number | null {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) (i--, fail());
  };
  const string = () => {
    i++;
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch < " ") fail();
      if (ch === '"') return void i++;
      if (ch === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail();
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === "{") return members("}", () => {
      if (text[i] !== '"') fail();
      string();
      ws();
      if (text[i] !== ":") fail();
      i++;
      value();
    });
    if (ch === "[") return members("]", value);
    if (ch === '"') return string();
    if (ch === "t") return literal("true");
    if (ch === "f") return literal("false");
    if (ch === "n") return literal("null");
    number();
  };
  const members = (close: string, item: () => void) => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      ws();
      item();
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === close) return void i++;
      else fail();
    }
  };
  try {
    value();
    ws();
    return i < text.length ? i : null;
  } catch (at) {
    return Math.min(at as number, text.length);
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
  if (!parsed.success) throw new UsageError(formatIssues(path, parsed.error.issues, raw));
  const daemons = parsed.data.daemons;
  const order = dependencyLevels(new Map(Object.entries(daemons).map(([n, d]) => [n, d.dependsOn ?? []])), new Set(Object.keys(daemons)));
  if ("problem" in order) throw new UsageError(`invalid config (1 problem):\n${path}: ${order.problem.message}`);
  return { path, dir: dirname(path), config: parsed.data };
}

export function formatIssues(file: string, issues: readonly z.core.$ZodIssue[], input?: unknown): string {
  const lines = issues.map((issue) => {
    const where = issue.path.length ? issue.path.map(String).join(".") : "(top level)";
    let message = issue.message;
    if (issue.code === "unrecognized_keys") {
      const keys = (issue as { keys: string[] }).keys;
      const valid = keysAt(configSchema(), issue.path);
      const guesses = keys.flatMap((k) => closest(k, valid) ?? []).map((k) => `"${k}"`);
      const hint = guesses.length ? ` (did you mean ${guesses.join(", ")}?)` : " (check the spelling; see `daemonctl schema config`)";
      return `${file}: ${[...issue.path.map(String), keys.join(",")].join(".")}: unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}${hint}`;
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
    return `${file}: ${where}: ${message}${givenValue(input, issue.path)}`;
  });
  return `invalid config (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`;
}

/** The keys an object in the config may have at `path` (for "did you mean"); [] if not an object. */
function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  type Def = { type: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType; element?: z.core.$ZodType; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  const unwrap = (t: z.core.$ZodType | undefined): Def | undefined => {
    let def = t?._zod.def as Def | undefined;
    while (def && (def.innerType || (def.type === "pipe" && def.in))) def = (def.innerType ?? def.in)!._zod.def as Def;
    return def;
  };
  let def = unwrap(schema);
  for (const seg of path) {
    const next = def?.type === "object" ? def.shape![String(seg)] : def?.type === "record" ? def.valueType : def?.type === "array" ? def.element : undefined;
    def = unwrap(next);
  }
  return def?.type === "object" ? Object.keys(def.shape!) : [];
}

export { findConfigPath } from "./locate.ts";

/** ` (got "5x")`: the bad value itself, when it is a plain one, so the reader sees what was wrong. */
function givenValue(input: unknown, path: readonly PropertyKey[]): string {
  if (input === undefined || path.length === 0) return "";
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return "";
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? ` (got ${JSON.stringify(v)})` : "";
}
