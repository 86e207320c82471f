/** How `start` and `restart` report a start: JSON on stdout, or one line on stderr; the exit code. */
import { writeStderr, writeStdout } from "../platform/files.ts";
import type { StartOutcome } from "../daemon/client/spawner.ts";
import { blankStatus } from "../daemon/client/status-report.ts";
import type { Logger } from "../logger.ts";

/** Prints the outcome (JSON on stdout, or a line on stderr) and returns the exit code. */
export async function reportStart(name: string, o: StartOutcome, json: boolean, log: Logger): Promise<number> {
  if (o.kind === "launched") {
    if (json) await writeStdout(`${JSON.stringify(o.status ?? { ...blankStatus(name), state: "starting", pid: o.hostPid }, null, 2)}\n`);
    else log.info(`${name}: launched${o.hostPid ? ` (host pid ${o.hostPid})` : ""}; not waiting for readiness`);
    return 0;
  }
  if (o.kind === "stopped-by-operator") {
    const message = `${name} was stopped by an operator (\`daemonctl stop ${name}\`); started nothing (--unless-stopped); \`daemonctl start ${name}\` runs it again`;
    if (json) await writeStdout(`${JSON.stringify({ ...(o.status ?? { ...blankStatus(name), intent: "stopped" }), error: { code: "stopped-by-operator", message } }, null, 2)}\n`);
    log.warn(message);
    return 3;
  }
  if (o.kind === "completed") {
    if (json) await writeStdout(`${JSON.stringify(o.status ?? { ...blankStatus(name), state: "done" }, null, 2)}\n`);
    else log.info(o.already ? `${name} is already done (once: its success is on record; \`daemonctl restart ${name}\` runs it again)` : `${name} done (exit code 0)`);
    return 0;
  }
  if (o.kind === "failed") {
    if (json) {
      const s = o.status ?? blankStatus(name);
      await writeStdout(`${JSON.stringify({ ...s, error: { code: "start-failed", message: o.message } }, null, 2)}\n`);
    }
    log.error(`${name} failed to start: ${o.message}`);
    if (o.logTail.length) await writeStderr(`last output of ${name}:\n${o.logTail.map((l) => `  ${l}`).join("\n")}\n`);
    return o.exitCode ?? 1;
  }
  const s = o.status;
  if (json) await writeStdout(`${JSON.stringify(s, null, 2)}\n`);
  else {
    const verb = o.kind === "already-running" ? "already running" : o.kind;
    log.info(`${name} ${verb} (pid ${s.pid}${s.child?.pid ? `, child ${s.child.pid}` : ""})`);
  }
  return 0;
}
