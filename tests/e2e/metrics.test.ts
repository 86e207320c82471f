/**
 * `daemonctl metrics` and `supervise --metrics` (docs/metrics.md): the values a scrape sees for
 * running, stopped, failed and restarted daemons; the atomic `--output`; the HTTP endpoint, and
 * a taken port failing supervise's start-up before anything starts.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { request } from "node:http";
import { sandboxes, waitFor, json, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();

/** family → "name" or "name/state" → value. */
function parse(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split("\n")) {
    const m = /^(\w+)\{name="([^"]*)"(?:,state="([^"]*)")?\} (\S+)$/.exec(line);
    if (!m) continue;
    (out[m[1]!] ??= {})[m[3] ? `${m[2]}/${m[3]}` : m[2]!] = Number(m[4]);
  }
  return out;
}

function config(box: Sandbox, daemons: Record<string, unknown>): string {
  const path = box.path("d.json");
  writeFileSync(path, JSON.stringify({ daemons }));
  return path;
}

/** Fails twice (after it counted as ready, so `start` succeeds), then runs: two restarts by policy. */
const FLAPPY = ["sh", "-c", 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ "$n" -ge 2 ] && exec sleep 1000; sleep 0.3; exit 1'];

function get(port: number, path: string, method = "GET"): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

test("metrics: running, stopped, failed, restarted and defined-only daemons; exit 0; unknown names exit 2", async () => {
  const box = sandbox();
  const cfg = config(box, {
    flappy: { command: FLAPPY, cwd: box.dir, backoff: { initial: "50ms" } },
    never: { command: ["sleep", "1000"] },
  });
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["start", "idle", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["stop", "idle"])).code).toBe(0);
  expect((await box.run(["start", "bad", "--restart", "no", "--ready", "delay:100ms", "--", "sh", "-c", "exit 3"])).code).toBe(1);
  expect((await box.run(["start", "flappy", "--config", cfg])).code).toBe(0);
  await waitFor(async () => {
    const st = json(await box.run(["status", "flappy", "--json"]));
    return st?.child?.restarts === 2 && st.state === "running" && st.ready === true;
  }, 10_000, "flappy restarted twice and ready");

  const r = await box.run(["metrics", "--config", cfg]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe("");
  const m = parse(r.stdout);
  expect(m.daemonctl_daemon_up).toEqual({ bad: 0, flappy: 1, idle: 0, never: 0, web: 1 });
  expect(m.daemonctl_daemon_ready).toEqual({ bad: 0, flappy: 1, idle: 0, never: 0, web: 1 });
  expect(m.daemonctl_daemon_restarts_total).toEqual({ bad: 0, flappy: 2, idle: 0, never: 0, web: 0 });
  expect(m.daemonctl_daemon_intent_running).toEqual({ bad: 1, flappy: 1, idle: 0, never: 0, web: 1 });
  // The stop's SIGTERM is 128+15; never-exited daemons have no sample.
  expect(m.daemonctl_daemon_last_exit_code).toEqual({ bad: 3, flappy: 1, idle: 143 });
  expect(m.daemonctl_daemon_uptime_seconds!.web).toBeGreaterThan(0);
  expect(m.daemonctl_daemon_uptime_seconds!.web).toBeLessThan(60);
  expect(m.daemonctl_daemon_uptime_seconds!.idle).toBe(0);
  const current = Object.entries(m.daemonctl_daemon_state!).filter(([, v]) => v === 1).map(([k]) => k);
  expect(current.sort()).toEqual(["bad/failed", "flappy/running", "idle/stopped", "never/stopped", "web/running"]);
  expect(r.stdout).toContain("# TYPE daemonctl_daemon_restarts_total counter\n");

  const one = await box.run(["metrics", "web"]);
  expect(Object.keys(parse(one.stdout).daemonctl_daemon_up!)).toEqual(["web"]);
  const ghost = await box.run(["metrics", "ghost"]);
  expect(ghost.code).toBe(2);
  expect(ghost.stderr).toContain("no daemon named ghost");
});

test("metrics --output: the file replaced by a rename, readable by others, no temporary files left; a missing directory is an error", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  const out = box.path("textfile", "daemonctl.prom");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(box.path("textfile"));
  writeFileSync(out, "old\n");
  const before = statSync(out).ino;
  const r = await box.run(["metrics", "--output", out]);
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
  const text = readFileSync(out, "utf8");
  expect(parse(text).daemonctl_daemon_up).toEqual({ web: 1 });
  expect(statSync(out).ino).not.toBe(before);
  expect(statSync(out).mode & 0o777).toBe(0o644);
  expect(readdirSync(box.path("textfile"))).toEqual(["daemonctl.prom"]);

  const missing = await box.run(["metrics", "-o", box.path("nosuch", "x.prom")]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(`directory ${box.path("nosuch")} does not exist`);
});

test("supervise --metrics 127.0.0.1:0: serves /metrics for its daemons (GET and HEAD), 404 elsewhere, closed at shutdown", async () => {
  const box = sandbox();
  const cfg = config(box, { a: { command: ["sleep", "1000"] }, once: { command: ["true"], type: "oneshot" } });
  const sup = box.spawn(["supervise", "--config", cfg, "--metrics", "127.0.0.1:0"]);
  const port = Number((await waitFor(() => /metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(sup.stderr), 10_000, "the bound address"))[1]);
  await waitFor(async () => {
    const st = parse((await get(port, "/metrics")).body).daemonctl_daemon_state;
    return st?.["once/done"] === 1 && st["a/running"] === 1;
  }, 10_000, "once done and a running");
  const r = await get(port, "/metrics");
  expect(r.status).toBe(200);
  expect(r.type).toBe("text/plain; version=0.0.4; charset=utf-8");
  const m = parse(r.body);
  expect(m.daemonctl_daemon_up).toEqual({ a: 1, once: 0 });
  expect(m.daemonctl_daemon_last_exit_code).toEqual({ once: 0 });
  const head = await get(port, "/metrics", "HEAD");
  expect({ status: head.status, body: head.body }).toEqual({ status: 200, body: "" });
  expect((await get(port, "/")).status).toBe(404);
  expect((await get(port, "/metricsx")).status).toBe(404);
  expect((await get(port, "/metrics", "POST")).status).toBe(405);

  sup.kill("SIGTERM");
  expect((await sup.waitExit(10_000)).code).toBe(0);
  expect(await get(port, "/metrics").then(() => "answered", (e: NodeJS.ErrnoException) => e.code)).toBe("ECONNREFUSED");
});

test("supervise --metrics on a taken port: exits 1 at once with the reason; no daemon started, no socket left", async () => {
  const box = sandbox();
  const { server, port } = await occupy();
  try {
    const cfg = config(box, { a: { command: ["sh", "-c", `touch ${box.path("started")}; exec sleep 1000`] } });
    const t0 = Date.now();
    const r = await box.run(["supervise", "--config", cfg, "--metrics", `127.0.0.1:${port}`]);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--metrics 127.0.0.1:${port}: address already in use; choose another port`);
    expect(existsSync(box.path("started"))).toBe(false);
    const sockets = existsSync(box.runtimeDir) ? readdirSync(box.runtimeDir).filter((f) => f.endsWith(".sock")) : [];
    expect(sockets).toEqual([]);
    expect(box.processes()).toEqual([]);
  } finally {
    server.close();
  }
});

test("supervise --metrics: a bad address and a command after -- are usage errors", async () => {
  const box = sandbox();
  const cfg = config(box, { a: { command: ["sleep", "1000"] } });
  const bad = await box.run(["supervise", "--config", cfg, "--metrics", "::1:9100"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--metrics: "::1:9100" is not a listen address');
  const cmd = await box.run(["supervise", "--metrics", "9100", "--", "true"]);
  expect(cmd.code).toBe(2);
  expect(cmd.stderr).toContain("--metrics applies to the daemons of a config file");
});
