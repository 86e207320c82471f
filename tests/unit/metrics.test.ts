/** The metrics formatter (docs/metrics.md) and `--metrics` address parsing: pure logic. */
import { describe, expect, test } from "bun:test";
import { escapeLabelValue, formatMetrics } from "../../src/daemon/client/metrics.ts";
import { blankStatus } from "../../src/daemon/client/status-report.ts";
import { formatListenAddress, parseListenAddress } from "../../src/supervise/metrics-server.ts";
import type { Status } from "../../src/schema/status.ts";

const NOW = Date.parse("2026-01-01T00:01:00.000Z");

function status(name: string, patch: Partial<Status> = {}): Status {
  return { ...blankStatus(name), ...patch };
}

const running = status("web", {
  state: "running",
  ready: true,
  intent: "running",
  child: { pid: 42, startedAt: "2026-01-01T00:00:00.500Z", restarts: 3, lastExit: { code: null, signal: "SIGKILL", at: "2026-01-01T00:00:00.000Z" } },
  health: "healthy",
});
const failed = status("bad", { state: "failed", ready: false, intent: "running", child: { pid: null, startedAt: null, restarts: 0, lastExit: { code: 3, signal: null, at: "x" } } });
const stopped = status("idle");

/** name → value of a family's samples (with extra labels in the key). */
function samples(text: string, family: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${family}\\{name="([^"]*)"(?:,state="([^"]*)")?\\} (\\S+)$`).exec(line);
    if (m) out[m[2] ? `${m[1]}/${m[2]}` : m[1]!] = Number(m[3]);
  }
  return out;
}

describe("formatMetrics", () => {
  const text = formatMetrics([running, failed, stopped], NOW);

  test("every family has HELP and TYPE once, before its samples; restarts a counter, the rest gauges", () => {
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(families).toEqual([
      ["daemonctl_daemon_up", "gauge"],
      ["daemonctl_daemon_ready", "gauge"],
      ["daemonctl_daemon_state", "gauge"],
      ["daemonctl_daemon_restarts_total", "counter"],
      ["daemonctl_daemon_uptime_seconds", "gauge"],
      ["daemonctl_daemon_health_status", "gauge"],
      ["daemonctl_daemon_last_exit_code", "gauge"],
      ["daemonctl_daemon_intent_running", "gauge"],
    ]);
    for (const [name] of families) {
      const lines = text.split("\n");
      const help = lines.indexOf(lines.find((l) => l.startsWith(`# HELP ${name} `))!);
      expect(lines[help + 1]).toBe(`# TYPE ${name} ${families.find((f) => f[0] === name)![1]}`);
      // Samples of a family stand together, right after its TYPE.
      const at = lines.flatMap((l, i) => (l.startsWith(`${name}{`) ? [i] : []));
      at.forEach((i, k) => expect(i).toBe(help + 2 + k));
    }
    expect(text.endsWith("\n")).toBe(true);
  });

  test("values", () => {
    expect(samples(text, "daemonctl_daemon_up")).toEqual({ web: 1, bad: 0, idle: 0 });
    expect(samples(text, "daemonctl_daemon_ready")).toEqual({ web: 1, bad: 0, idle: 0 });
    expect(samples(text, "daemonctl_daemon_restarts_total")).toEqual({ web: 3, bad: 0, idle: 0 });
    expect(samples(text, "daemonctl_daemon_uptime_seconds")).toEqual({ web: 59.5, bad: 0, idle: 0 });
    expect(samples(text, "daemonctl_daemon_intent_running")).toEqual({ web: 1, bad: 1, idle: 0 });
    // Killed by SIGKILL: 128+9, as a shell reports it.
    expect(samples(text, "daemonctl_daemon_last_exit_code")).toEqual({ web: 137, bad: 3 });
    // Only daemons with a health check have a health sample.
    expect(samples(text, "daemonctl_daemon_health_status")).toEqual({ web: 1 });
  });

  test("one state sample per state, exactly one of them 1", () => {
    const st = samples(text, "daemonctl_daemon_state");
    expect(Object.keys(st).filter((k) => k.startsWith("web/"))).toHaveLength(10);
    expect(Object.entries(st).filter(([, v]) => v === 1).map(([k]) => k)).toEqual(["web/running", "bad/failed", "idle/stopped"]);
  });

  test("health: unhealthy 0, starting -1; a done oneshot is not up; hung still gets lines", () => {
    const t = formatMetrics(
      [status("u", { state: "running", health: "unhealthy" }), status("s", { state: "starting", health: "starting" }), status("d", { state: "done" }), status("h", { state: "hung" })],
      NOW,
    );
    expect(samples(t, "daemonctl_daemon_health_status")).toEqual({ u: 0, s: -1 });
    expect(samples(t, "daemonctl_daemon_up")).toEqual({ u: 1, s: 0, d: 0, h: 0 });
    expect(samples(t, "daemonctl_daemon_state")["h/hung"]).toBe(1);
  });

  test("uptime counts only a running child, never negative, in plain decimals", () => {
    const ahead = status("a", { child: { pid: 7, startedAt: "2026-01-01T00:01:05.000Z", restarts: 0, lastExit: null } });
    const gone = status("g", { child: { pid: null, startedAt: "2026-01-01T00:00:00.000Z", restarts: 0, lastExit: null } });
    const tiny = status("t", { child: { pid: 8, startedAt: "2026-01-01T00:00:59.999Z", restarts: 0, lastExit: null } });
    const t = formatMetrics([ahead, gone, tiny], NOW);
    expect(samples(t, "daemonctl_daemon_uptime_seconds")).toEqual({ a: 0, g: 0, t: 0.001 });
    expect(t).not.toMatch(/e-\d/);
  });

  test("no daemons: the families alone", () => {
    expect(formatMetrics([], NOW).split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([]);
  });

  test("label values are escaped", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(formatMetrics([status('we"ird\\')], NOW)).toContain('daemonctl_daemon_up{name="we\\"ird\\\\"} 0');
  });
});

describe("--metrics addresses", () => {
  test("a port alone is loopback; host:port, [v6]:port", () => {
    expect(parseListenAddress("9100")).toEqual({ host: "127.0.0.1", port: 9100 });
    expect(parseListenAddress("0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseListenAddress("0.0.0.0:9100")).toEqual({ host: "0.0.0.0", port: 9100 });
    expect(parseListenAddress("localhost:80")).toEqual({ host: "localhost", port: 80 });
    expect(parseListenAddress("[::]:9100")).toEqual({ host: "::", port: 9100 });
    expect(parseListenAddress("[::1]:9100")).toEqual({ host: "::1", port: 9100 });
  });

  test("refused: no port, too big, bare IPv6, junk", () => {
    for (const bad of ["", "host", "host:", ":9100", "65536", "::1:9100", "[::1]", "1.2.3.4:http", "a b:1", "9100x"]) expect(parseListenAddress(bad)).toBeNull();
  });

  test("formatted as written", () => {
    expect(formatListenAddress({ host: "::", port: 9100 })).toBe("[::]:9100");
    expect(formatListenAddress({ host: "127.0.0.1", port: 9100 })).toBe("127.0.0.1:9100");
  });
});
