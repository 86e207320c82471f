/** Human renderings of status, shared by `status`, `list` and `start`. Dependency-free. */
import type { Status } from "../schema/status.ts";
import { formatDuration } from "../schema/units.ts";
import type { Escalation } from "../daemon/client/stopper.ts";

export { formatDuration };

/** ` (SIGKILL after 5 s: it did not exit on SIGTERM)`, or nothing for a clean stop. */
export function describeEscalation(e: Escalation | null): string {
  return e ? ` (SIGKILL after ${formatDuration(e.afterMs)}: it did not exit on ${e.stopSignal})` : "";
}

export function describeExit(e: { code: number | null; signal: string | null } | null | undefined): string {
  if (!e) return "";
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** SGR colour of each state on a terminal: green up, red down by failure, yellow in between, dim stopped. */
const STATE_COLOURS: Record<string, string> = { running: "32", done: "32", failed: "31", dead: "31", hung: "31", starting: "33", backoff: "33", stopping: "33", unknown: "33", stopped: "2" };

/** `text` (a state name, maybe padded) in its state's colour when `on`. */
export function colourState(state: string, on: boolean, text = state): string {
  const c = STATE_COLOURS[state];
  return on && c ? `\x1b[${c}m${text}\x1b[0m` : text;
}

/** `healthy`, `health starting`, or `unhealthy: HTTP 500` (the first line of the last check's output). */
function describeHealth(s: Status): string | null {
  if (!s.health) return null;
  if (s.health === "starting") return "health starting";
  if (s.health === "healthy") return "healthy";
  const line = (s.healthCheck?.output ?? "").split("\n", 1)[0]!.trim();
  return line ? `unhealthy: ${line.length > 120 ? `${line.slice(0, 120)}…` : line}` : "unhealthy";
}

/** One line: `web: running (pid 12, child 13, up 3m, 0 restarts)`; with a health check, its state first. */
export function describeStatus(s: Status, colour = false): string {
  const parts: string[] = [];
  const health = describeHealth(s);
  if (health) parts.push(health);
  if (s.pid !== null) parts.push(`pid ${s.pid}`);
  if (s.child?.pid) parts.push(`child ${s.child.pid}`);
  if (s.child?.mainPid) parts.push(`main ${s.child.mainPid}`);
  if (s.uptimeMs !== null && s.state === "running") parts.push(`up ${formatDuration(s.uptimeMs)}`);
  if (s.child && s.child.restarts > 0) parts.push(`${s.child.restarts} restart${s.child.restarts === 1 ? "" : "s"}`);
  if (s.child?.lastExit && s.state !== "running") parts.push(`last ${describeExit(s.child.lastExit)}`);
  if (s.intent && s.intent !== (s.state === "stopped" ? "stopped" : "running")) parts.push(`intent ${s.intent}`);
  if (s.fresh === false) parts.push("stale: watched files changed");
  let line = `${s.name}: ${colourState(s.state, colour)}${parts.length ? ` (${parts.join(", ")})` : ""}`;
  if (s.error) line += ` — ${s.error.message}`;
  else if (s.statusText) line += `: ${s.statusText}`;
  return line;
}
