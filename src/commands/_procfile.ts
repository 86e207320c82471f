/** `--procfile [FILE]` and `--port-base N` (`supervise`, `start`): the daemons of a Procfile. */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { DefinitionInput } from "../schema/definition.ts";
import { DEFAULT_PORT_BASE, parseProcfile } from "../daemon/definition/procfile.ts";
import { procfileDefinitions, type ResolvedDefinition } from "../daemon/definition/source.ts";
import { absolutePath } from "../daemon/state/paths.ts";
import { UsageError } from "../errors.ts";
import { badValue, str, type FlagSpecs, type ParsedArgv } from "./_argv.ts";

const DEFAULT_PROCFILE = "Procfile";

export const procfileFlags = {
  procfile: {
    type: "string",
    optionalValue: DEFAULT_PROCFILE,
    description: "Run the `name: command` lines of a Procfile (default ./Procfile; --procfile=FILE, or FILE as the next word)",
    valueHint: "FILE",
  },
  "port-base": { type: "string", description: "With --procfile: PORT of the first entry; each next one gets 100 more (default 5000, as foreman)", valueHint: "PORT" },
} as const satisfies FlagSpecs;

export interface LoadedProcfile {
  path: string;
  dir: string;
  definitions: ResolvedDefinition[];
}

/** The Procfile named by `--procfile`, or null without the flag. Every problem is exit 2. */
export function procfileFromFlags(p: ParsedArgv, overrides: Partial<DefinitionInput> = {}): LoadedProcfile | null {
  const given = str(p, "procfile");
  const portBaseText = str(p, "port-base");
  if (given === undefined) {
    if (portBaseText !== undefined) throw new UsageError("--port-base applies to the entries of a Procfile: add --procfile [FILE]");
    return null;
  }
  const path = absolutePath(given);
  const entries = parseOrThrow(path, readProcfile(path));
  const dir = dirname(path);
  return { path, dir, definitions: procfileDefinitions({ path, dir, entries }, portBase(portBaseText), overrides) };
}

function readProcfile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `Procfile ${path} does not exist` : `cannot read Procfile ${path}: ${(e as Error).message}`);
  }
}

function parseOrThrow(path: string, text: string) {
  const parsed = parseProcfile(text);
  if ("problem" in parsed) throw new UsageError(`${path}:${parsed.problem.line}: ${parsed.problem.message}`);
  if (parsed.entries.length === 0) throw new UsageError(`${path}: no entries (expected lines such as "web: ./server --port $PORT")`);
  return parsed.entries;
}

function portBase(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT_BASE;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw badValue("port-base", text, "a port", "a whole number from 1 to 65535, such as 5000");
  return Number(text);
}
