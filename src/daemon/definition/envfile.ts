/**
 * Env files (docs/configuration.md#env-files): dotenv syntax, read by the client when it resolves
 * a definition (so mistakes are config errors before anything starts) and by the host at every
 * spawn (so a restart sees the file as it is now).
 *
 * No `$VAR` expansion, on purpose: a value means what it says, whoever reads it, and a `$` in a
 * password is not a trap.
 */
import { readFileSync } from "node:fs";

export type EnvValues = Record<string, string>;
export type DotenvResult = { values: EnvValues } | { line: number; problem: string };

/** A leading `-` marks an optional file (systemd's EnvironmentFile=-/path): absent is fine. */
export function envFileRef(entry: string): { path: string; optional: boolean } {
  return entry.startsWith("-") ? { path: entry.slice(1), optional: true } : { path: entry, optional: false };
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Parses dotenv text; the first bad line is the problem (1-based line number). */
export function parseDotenv(text: string): DotenvResult {
  const entries: Array<[string, string]> = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const parsed = parseLine(lines[i]!.replace(/\r$/, ""));
    if (parsed === null) continue;
    if ("problem" in parsed) return { line: i + 1, problem: parsed.problem };
    entries.push([parsed.key, parsed.value]);
  }
  // fromEntries, not assignment: a key named __proto__ must stay a plain variable.
  return { values: Object.fromEntries(entries) };
}

/** One line: null for a blank or comment line. */
function parseLine(raw: string): { key: string; value: string } | { problem: string } | null {
  let rest = raw.trimStart();
  if (rest === "" || rest.startsWith("#")) return null;
  if (rest.includes("\0")) return { problem: "contains a NUL byte, which no environment variable can hold" };
  const exported = /^export[ \t]+/.exec(rest);
  if (exported) rest = rest.slice(exported[0].length);
  const key = KEY.exec(rest)?.[0];
  if (rest.startsWith("=")) return { problem: "no variable name before the =" };
  const after = key === undefined ? rest : rest.slice(key.length);
  if (key === undefined || /^[^\s=]/.test(after)) return { problem: `${JSON.stringify(firstWord(rest))} is not a valid variable name (letters, digits and _, not starting with a digit)` };
  const afterKey = after.trimStart();
  if (!afterKey.startsWith("=")) return { problem: `expected KEY=VALUE (got ${JSON.stringify(raw.trim())})` };
  const value = parseValue(afterKey.slice(1).trimStart());
  return "problem" in value ? value : { key, value: value.value };
}

function firstWord(s: string): string {
  return /^[^\s=]*/.exec(s)![0];
}

function parseValue(text: string): { value: string } | { problem: string } {
  if (text.startsWith("'")) {
    const end = text.indexOf("'", 1);
    if (end < 0) return { problem: "unterminated single quote (a value ends at the end of its line)" };
    return afterQuote(text.slice(1, end), text.slice(end + 1));
  }
  if (text.startsWith('"')) {
    let out = "";
    for (let i = 1; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '"') return afterQuote(out, text.slice(i + 1));
      if (ch === "\\" && i + 1 < text.length) {
        const next = text[++i]!;
        out += next === "n" ? "\n" : next === "r" ? "\r" : next === "t" ? "\t" : next === '"' || next === "\\" ? next : `\\${next}`;
      } else out += ch;
    }
    return { problem: "unterminated double quote (a value ends at the end of its line; write \\n for a newline)" };
  }
  // Unquoted: a # starts a comment only after whitespace, so URL fragments and colours survive.
  const comment = /\s#/.exec(text);
  return { value: (comment ? text.slice(0, comment.index) : text).trimEnd() };
}

function afterQuote(value: string, trailing: string): { value: string } | { problem: string } {
  const t = trailing.trimStart();
  if (t === "" || (t.startsWith("#") && t.length < trailing.length)) return { value };
  return { problem: `unexpected text after the closing quote: ${JSON.stringify(trailing.trim())}` };
}

export interface EnvFileProblem {
  path: string;
  /** 1-based; absent when the file could not be read at all. */
  line?: number;
  message: string;
}

/** `PATH:LINE: message`, or `PATH: message` for a file that cannot be read. */
export function describeEnvFileProblem(p: EnvFileProblem): string {
  return `${p.path}${p.line !== undefined ? `:${p.line}` : ""}: ${p.message}`;
}

/** Reads the files in order, later ones winning; the first problem ends it. */
export function readEnvFiles(entries: readonly string[]): { values: EnvValues } | { problem: EnvFileProblem } {
  let values: EnvValues = {};
  for (const entry of entries) {
    const { path, optional } = envFileRef(entry);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (optional && code === "ENOENT") continue;
      const message = code === "ENOENT" ? 'no such file (a leading "-" on the path makes it optional)' : `cannot be read: ${(e as Error).message}`;
      return { problem: { path, message } };
    }
    const parsed = parseDotenv(text);
    if ("problem" in parsed) return { problem: { path, line: parsed.line, message: parsed.problem } };
    // Spread, not Object.assign: assignment would turn a __proto__ key into a prototype.
    values = { ...values, ...parsed.values };
  }
  return { values };
}
