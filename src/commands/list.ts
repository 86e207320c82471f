/** `daemonctl list [--json]`: every known daemon, as a table or a JSON array of status objects. */
import { writeStdout } from "../platform/files.ts";
import { collectStatus } from "../daemon/client/status-report.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { dirsFrom, wantsStdoutColor, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";
import { colourState, describeExit, formatDuration } from "./_format.ts";

const flags = withGlobals({ ...jsonFlag, ...probeTimeoutFlag });

export default defineCommand({
  meta: { name: "list", description: "List every known daemon with its state" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "list");
    const dirs = await dirsFrom(p);
    const statuses = await Promise.all(knownDaemons(dirs).map((n) => collectStatus(n, dirs, probeTimeout(p))));
    if (bool(p, "json")) {
      await writeStdout(`${JSON.stringify(statuses, null, 2)}\n`);
      return 0;
    }
    const rows = [["NAME", "STATE", "INTENT", "PID", "CHILD", "UPTIME", "RESTARTS", "LAST EXIT"]];
    for (const s of statuses) {
      rows.push([
        s.name,
        s.state,
        s.intent ?? "-",
        s.pid === null ? "-" : String(s.pid),
        s.child?.pid ? String(s.child.pid) : "-",
        s.uptimeMs === null ? "-" : formatDuration(s.uptimeMs),
        s.child ? String(s.child.restarts) : "-",
        describeExit(s.child?.lastExit) || "-",
      ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const colour = await wantsStdoutColor(p);
    const cell = (c: string, i: number, row: number) => (i === 1 && row > 0 ? colourState(c, colour, c.padEnd(widths[i]!)) : c.padEnd(widths[i]!));
    await writeStdout(rows.map((r, row) => `${r.map((c, i) => cell(c, i, row)).join("  ").trimEnd()}\n`).join(""));
    return 0;
  },
});
