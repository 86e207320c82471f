/** `daemonctl reconcile [--json]`: start what should run, leave down what was stopped. */
import { writeStdout } from "../platform/files.ts";
import { reconcileAll } from "../daemon/client/reconcile.ts";
import { describeReconcile } from "../daemon/state/intent.ts";
import { reconcileResultSchema } from "../schema/reconcile.ts";
import { withoutHostSpec } from "../schema/host-spec.ts";
import { bool, parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { fullContext } from "./_context.ts";
import { createLogger } from "./_log.ts";
import { durationFlag, jsonFlag, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";
import { waitFlags } from "./_definition-flags.ts";

const flags = withGlobals({ wait: waitFlags.wait, ...jsonFlag, ...probeTimeoutFlag });

export default defineCommand({
  meta: {
    name: "reconcile",
    description: "Start every daemon whose intent is running and that is not live; leave stopped and failed ones down",
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "reconcile");
    const log = createLogger(p);
    const ctx = await fullContext(p);
    const lines = await reconcileAll({
      dirs: ctx.dirs,
      sharing: ctx.sharing,
      probeTimeoutMs: probeTimeout(p),
      waitMs: durationFlag(p, "wait", 10_000),
      env: withoutHostSpec(process.env),
      log,
    });
    if (bool(p, "json")) await writeStdout(`${JSON.stringify(reconcileResultSchema().parse(lines), null, 2)}\n`);
    else await writeStdout(lines.map((l) => `${describeReconcile(l)}\n`).join(""));
    return lines.some((l) => l.action === "start-failed") ? 1 : 0;
  },
});
