/**
 * Statuses as Prometheus text exposition (format 0.0.4; docs/metrics.md), for `daemonctl metrics`
 * and `supervise --metrics`. Pure: the caller collects the statuses and passes the clock.
 */
import { STATES } from "../../schema/constants.ts";
import type { Status } from "../../schema/status.ts";
import { shellExitCode } from "../policy.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  /** One sample per daemon (or several, with extra labels); none leaves the daemon out. */
  samples(s: Status, nowMs: number): Array<{ labels?: Record<string, string>; value: number }>;
}

const one = (value: number) => [{ value }];
const flag = (b: boolean) => one(b ? 1 : 0);

/** Health as a number: the check passed, failed, or has not passed yet since the spawn. */
const HEALTH_VALUE = { healthy: 1, unhealthy: 0, starting: -1 } as const;

const FAMILIES: Family[] = [
  {
    name: "daemonctl_daemon_up",
    type: "gauge",
    help: "1 if the daemon's state is running (a done oneshot is 0), else 0.",
    samples: (s) => flag(s.state === "running"),
  },
  {
    name: "daemonctl_daemon_ready",
    type: "gauge",
    help: "1 if the daemon's child passed its readiness check, else 0.",
    samples: (s) => flag(s.ready === true),
  },
  {
    name: "daemonctl_daemon_state",
    type: "gauge",
    help: "1 for the daemon's current state, 0 for the others.",
    samples: (s) => STATES.map((state) => ({ labels: { state }, value: s.state === state ? 1 : 0 })),
  },
  {
    name: "daemonctl_daemon_restarts_total",
    type: "counter",
    help: "Restarts of the daemon's child by its restart policy.",
    samples: (s) => one(s.child?.restarts ?? 0),
  },
  {
    name: "daemonctl_daemon_uptime_seconds",
    type: "gauge",
    help: "Seconds since the daemon's current child started; 0 when no child runs.",
    samples: (s, now) => one(childUptimeSeconds(s, now)),
  },
  {
    name: "daemonctl_daemon_health_status",
    type: "gauge",
    help: "1 healthy, 0 unhealthy, -1 no check passed yet; only for daemons with a health check and a child.",
    samples: (s) => (s.health ? one(HEALTH_VALUE[s.health]) : []),
  },
  {
    name: "daemonctl_daemon_last_exit_code",
    type: "gauge",
    help: "Exit code of the daemon's last child (128+N if signal N killed it); absent before its first exit.",
    samples: (s) => (s.child?.lastExit ? one(shellExitCode(s.child.lastExit)) : []),
  },
  {
    name: "daemonctl_daemon_intent_running",
    type: "gauge",
    help: "1 if the daemon's run intent is running, 0 if stopped or unknown.",
    samples: (s) => flag(s.intent === "running"),
  },
];

/** Every family, with `# HELP` and `# TYPE`, its samples in the order of `statuses`. */
export function formatMetrics(statuses: Status[], nowMs: number): string {
  const out: string[] = [];
  for (const f of FAMILIES) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of statuses) {
      for (const sample of f.samples(s, nowMs)) out.push(`${f.name}${labelSet({ name: s.name, ...sample.labels })} ${formatValue(sample.value)}`);
    }
  }
  return `${out.join("\n")}\n`;
}

function childUptimeSeconds(s: Status, nowMs: number): number {
  const started = s.child?.pid ? Date.parse(s.child.startedAt ?? "") : Number.NaN;
  // A child clock a little ahead of ours is still a running child, not a negative uptime.
  return Number.isNaN(started) ? 0 : Math.max(0, (nowMs - started) / 1000);
}

function labelSet(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(",")}}`;
}

/** The exposition format's label value escapes: backslash, double quote, line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** In `# HELP`, only backslash and line feed are escaped. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Integers as they are; fractions to the millisecond (uptime), never exponent notation. */
function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
