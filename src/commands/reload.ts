/** `daemonctl reload [--dry-run]`: a running `supervise` reads its config again and applies the difference. */
import { writeStdout } from "../platform/files.ts";
import { reloadSupervisor } from "../daemon/client/reloader.ts";
import { UsageError } from "../errors.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { createLogger } from "./_log.ts";
import { dirsFrom, durationFlag, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  "dry-run": { type: "boolean", description: "Print what a reload would add, remove, restart and leave alone; change nothing" },
  timeout: { type: "string", description: "How long to wait for the supervisor to apply it (default 2m)", valueHint: "DURATION" },
  ...jsonFlag,
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: {
    name: "reload",
    description: "Make the running supervisor re-read its config: start added daemons, stop removed ones, restart changed ones",
    usage: "Examples:\n  daemonctl reload --dry-run\n  docker exec app daemonctl reload",
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "reload");
    const log = createLogger(p);
    if (p.positionals.length) throw new UsageError("`daemonctl reload` takes no daemon names: it reloads the whole config of the running supervisor");
    const dryRun = bool(p, "dry-run");
    const o = await reloadSupervisor(await dirsFrom(p), { dryRun, probeTimeoutMs: probeTimeout(p), timeoutMs: durationFlag(p, "timeout", 120_000) });
    if (bool(p, "json")) {
      const doc = o.kind === "reloaded" ? o.result : { error: { code: o.kind === "refused" ? o.code : o.kind, message: o.message } };
      await writeStdout(`${JSON.stringify(doc, null, 2)}\n`);
    }
    if (o.kind !== "reloaded") {
      log.error(o.kind === "refused" && o.code === "bad-config" ? `the config is invalid; nothing changed:\n${o.message}` : o.message);
      return 1;
    }
    const r = o.result;
    const line = (what: string, names: string[]) => names.length && log.info(`${what}: ${names.join(", ")}`);
    line(dryRun ? "would add and start" : "added", r.added);
    line(dryRun ? "would stop and forget" : "removed", r.removed);
    line(dryRun ? "would restart (changed)" : "restarted (changed)", r.changed);
    line(dryRun ? "would leave alone" : "unchanged", r.unchanged);
    if (!r.added.length && !r.removed.length && !r.changed.length) log.info("nothing to do: the config matches what runs");
    return 0;
  },
});
