/**
 * `daemonctl metrics [NAME…] [--output FILE]`: Prometheus text for every known daemon
 * (docs/metrics.md), on stdout or into a file for node_exporter's textfile collector.
 */
import { CliError } from "../errors.ts";
import { collectStatus } from "../daemon/client/status-report.ts";
import { formatMetrics } from "../daemon/client/metrics.ts";
import { knownAndConfigured } from "../daemon/state/known.ts";
import { writeStdout } from "../platform/files.ts";
import { parseArgv, str } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { checkName, configuredNames, dirsFrom, probeTimeout, probeTimeoutFlag, requireKnownNames, withGlobals } from "./_shared.ts";

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
    const names = given.length ? given : knownAndConfigured(dirs, await configuredNames(p));
    const timeout = probeTimeout(p);
    const statuses = await Promise.all(names.map((n) => collectStatus(n, dirs, timeout)));
    const text = formatMetrics(statuses, Date.now());
    const output = str(p, "output");
    if (output === undefined) await writeStdout(text);
    else await writeAtomically(output, text);
    return 0;
  },
});

/**
 * The textfile collector may read at any moment: it must see the old file or the new one, never
 * a half-written one (store.ts's temporary name does not end in `.prom`, so it is ignored).
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  const { writeFileAtomic } = await import("../daemon/state/store.ts");
  try {
    // 0644: the collector usually runs as another user.
    writeFileAtomic(path, text, { mode: 0o644 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const dir = path.slice(0, Math.max(1, path.lastIndexOf("/")));
    const why = err.code === "ENOENT" ? `directory ${dir} does not exist` : err.code === "EACCES" ? `permission denied in ${dir}` : err.message;
    throw new CliError(`--output ${path}: ${why}`, 1);
  }
}
