/**
 * `daemonctl status [NAME…] [--json]`: verified status with LSB exit codes.
 *
 * On the fast path: no citty, consola or zod (messages are checked by the validators generated
 * from the zod schemas), no node:fs or node:path.
 */
import { STATUS_LIST_SCHEMA } from "../schema/constants.ts";
import { statusExitCode } from "../daemon/policy.ts";
import type { Status } from "../schema/status.ts";
import { blankStatus, collectStatus, markUndefined } from "../daemon/client/status-report.ts";
import { DirError } from "../daemon/state/paths.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { checkName, configuredNames, wantsStdoutColor, dirsFrom, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";
import { describeStatus } from "./_format.ts";
import { writeStderr, writeStdout } from "../platform/files.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names (default: every daemon known in the runtime and state directories)", required: false },
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "status",
    description: "Show verified daemon status (exit 0 running, 1 dead/failed/backoff, 3 stopped, 4 hung/unknown/starting/stopping)",
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "status");
    const names = p.positionals.map(checkName);
    let dirs;
    try {
      dirs = await dirsFrom(p);
    } catch (e) {
      if (!(e instanceof DirError)) throw e;
      // Cannot look: every daemon asked about is `unknown` (exit 4), still as one document.
      const error = { code: e.code === "denied" ? "permission-denied" : `unsafe-${e.code}`, message: e.message };
      const docs = (names.length ? names : ["?"]).map((n) => ({ ...blankStatus(n), state: "unknown" as const, error }));
      if (bool(p, "json")) await writeStdout(`${JSON.stringify(names.length === 1 ? docs[0] : { schema: STATUS_LIST_SCHEMA, daemons: names.length ? docs : [] }, null, 2)}\n`);
      else if (names.length) await writeStdout(docs.map((d) => `${describeStatus(d)}\n`).join(""));
      if (bool(p, "json") || !names.length) await writeStderr(`daemonctl: ${e.message}\n`);
      return 4;
    }
    const listAll = names.length === 0;
    const targets = listAll ? knownDaemons(dirs) : names;
    const timeout = probeTimeout(p);
    const statuses = await Promise.all(targets.map((n) => collectStatus(n, dirs, timeout)));
    if (!listAll) await markUndefined(dirs, statuses, () => configuredNames(p));
    if (bool(p, "json")) {
      const doc = names.length === 1 ? statuses[0] : { schema: STATUS_LIST_SCHEMA, daemons: statuses };
      await writeStdout(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      if (listAll && statuses.length === 0) await writeStderr(`no daemons known in ${dirs.runtimeDir} or ${dirs.stateDir}\n`);
      const colour = await wantsStdoutColor(p);
      await writeStdout(statuses.map((s) => `${describeStatus(s, colour)}\n`).join(""));
    }
    return combinedExitCode(statuses);
  },
});

/** 0 only if every daemon runs; otherwise the first non-zero code. Nothing known: 3. */
export function combinedExitCode(statuses: Status[]): number {
  if (statuses.length === 0) return 3;
  for (const s of statuses) {
    const code = statusExitCode(s);
    if (code !== 0) return code;
  }
  return 0;
}
