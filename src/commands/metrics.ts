/**
 * `daemonctl metrics [NAME…] [--output FILE]`: Prometheus text for every known daemon
 * (docs/metrics.md), on stdout or into a file for node_exporter's textfile collector.
 */
import { CliError } from "../errors.ts";
import { collectStatus } from "../daemon/client/status-report.ts";
import { formatMetrics } from "../daemon/client/metrics.ts";
import { findConfigPath, loadConfigDaemonNames } from "../daemon/definition/locate.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import type { Dirs } from "../daemon/state/paths.ts";
import { writeStdout } from "../platform/files.ts";
import { parseArgv, str, type ParsedArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { checkName, dirsFrom, probeTimeout, probeTimeoutFlag, requireKnownNames, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names (default: every daemon known here or defined in the config file)", required: false },
  output: { type: "string", alias: "o", description: "Write to FILE atomically (temporary file, then rename) instead of stdout", valueHint: "FILE" },
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: { name: "metrics", description: "Print daemon metrics as Prometheus text (for node_exporter's textfile collector)" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "metrics");
    const given = p.positionals.map(checkName);
    const dirs = await dirsFrom(p);
    if (given.length) await requireKnownNames(p, dirs, given);
    const names = given.length ? given : await everyDaemon(p, dirs);
    const timeout = probeTimeout(p);
    const statuses = await Promise.all(names.map((n) => collectStatus(n, dirs, timeout)));
    const text = formatMetrics(statuses, Date.now());
    const output = str(p, "output");
    if (output === undefined) await writeStdout(text);
    else await writeAtomically(output, text);
    return 0;
  },
});

/** Known in the directories, or only defined in the config file (never started: up 0). */
async function everyDaemon(p: ParsedArgv, dirs: Dirs): Promise<string[]> {
  const found = await findConfigPath(str(p, "config"));
  const inConfig = found ? await loadConfigDaemonNames(found.path) : [];
  return [...new Set([...knownDaemons(dirs), ...inConfig])].sort();
}

/**
 * The textfile collector may read at any moment: it must see the old file or the new one, never
 * a half-written one. A temporary name not ending in `.prom` is one it ignores, and a rename in
 * the same directory is atomic.
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  const { renameSync, unlinkSync, writeFileSync } = await import("node:fs");
  const { basename, dirname, join } = await import("node:path");
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    // 0644: the collector usually runs as another user.
    writeFileSync(tmp, text, { mode: 0o644, flag: "w" });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? `directory ${dirname(path)} does not exist` : err.code === "EACCES" ? `permission denied in ${dirname(path)}` : err.message;
    throw new CliError(`--output ${path}: ${why}`, 1);
  }
}
