/**
 * Procfiles (docs/containers.md#procfiles): foreman's `name: command` lines, each a daemon run
 * by `sh -c`. Pure: the caller reads the file; this turns its text into entries or a problem.
 */
import { DAEMON_NAME_RE } from "../../schema/units.ts";
import type { DefinitionInput } from "../../schema/definition.ts";

export interface ProcfileEntry {
  name: string;
  command: string;
  /** 1-based line number, for messages. */
  line: number;
}

export interface ProcfileProblem {
  line: number;
  message: string;
}

/** foreman's own rule (`^([A-Za-z0-9_-]+):\s*(.+)$`); the name must also be a daemon name. */
const ENTRY_RE = /^([A-Za-z0-9_-]+):\s*(.*)$/;

export const DEFAULT_PORT_BASE = 5000;
/** foreman gives each process type its own hundred ports: base, base+100, … */
const PORT_STEP = 100;

/** The entries in file order, or the first line that does not parse. */
export function parseProcfile(text: string): { entries: ProcfileEntry[] } | { problem: ProcfileProblem } {
  const entries: ProcfileEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i]!.replace(/\r$/, "");
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) continue;
    const m = ENTRY_RE.exec(raw);
    if (!m) return { problem: { line, message: `not a "name: command" line (got ${JSON.stringify(raw)})` } };
    const [, name, rest] = m as unknown as [string, string, string];
    const command = rest.trim();
    if (!DAEMON_NAME_RE.test(name)) return { problem: { line, message: `"${name}" is not a daemon name: use 1-64 letters, digits, '_' or '-', starting with a letter or digit` } };
    if (!command) return { problem: { line, message: `"${name}" has no command` } };
    const first = entries.find((e) => e.name === name);
    if (first) return { problem: { line, message: `"${name}" is defined twice (first on line ${first.line})` } };
    entries.push({ name, command, line });
  }
  return { entries };
}

/** The port of the entry at `index` (file order), or null when it would pass 65535. */
export function portOf(base: number, index: number): number | null {
  const port = base + PORT_STEP * index;
  return port <= 65535 ? port : null;
}

/**
 * Each entry as definition input: `sh -c COMMAND` in the Procfile's directory, with `PORT` set as
 * foreman sets it. The index is the entry's place in the whole file, so a daemon keeps its port
 * (and so its definition identity) however the entries are selected.
 */
export function procfileInputs(entries: ProcfileEntry[], portBase: number, dir: string): Array<{ entry: ProcfileEntry; input: DefinitionInput }> | { problem: ProcfileProblem } {
  const out: Array<{ entry: ProcfileEntry; input: DefinitionInput }> = [];
  for (const [i, entry] of entries.entries()) {
    const port = portOf(portBase, i);
    if (port === null) return { problem: { line: entry.line, message: `"${entry.name}" would get PORT ${portBase + PORT_STEP * i}, above 65535; lower --port-base` } };
    out.push({ entry, input: { command: ["/bin/sh", "-c", entry.command], cwd: dir, env: { PORT: String(port) } } });
  }
  return out;
}
