/**
 * Health checks (docs/lifecycle.md#health-checks): http/tcp/unix/exec checks on a ready daemon,
 * unhealthy → restart (or only report), status exit 1 while unhealthy, checks one at a time.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { alive, json, waitFor, sandboxes, type Sandbox, freePort } from "../helpers/harness.ts";

const sandbox = sandboxes();
const BUN = process.execPath;

/** An HTTP daemon that answers 500 while `flag` exists; `ignoreTerm` makes its stop take stopTimeout. */
function httpServer(port: number, flag: string, ignoreTerm = false): string[] {
  const script =
    `${ignoreTerm ? 'process.on("SIGTERM", () => {});' : ""}` +
    `const fs = require("node:fs");` +
    `require("node:http").createServer((q, s) => { const bad = fs.existsSync(${JSON.stringify(flag)}); s.writeHead(bad ? 500 : 200); s.end(bad ? "broken" : "ok"); })` +
    `.listen(${port}, "127.0.0.1");`;
  return [BUN, "-e", script];
}

async function status(box: Sandbox, name: string): Promise<{ code: number | null; doc: any }> {
  const r = await box.run(["status", name, "--json"]);
  return { code: r.code, doc: json(r) };
}

/** Polls status until `pred` holds of its document; returns that status. */
async function statusWhen(box: Sandbox, name: string, pred: (doc: any) => boolean, what: string, timeoutMs = 10_000): Promise<{ code: number | null; doc: any }> {
  let last: { code: number | null; doc: any } | null = null;
  await waitFor(async () => {
    last = await status(box, name);
    return pred(last.doc);
  }, timeoutMs, what);
  return last!;
}

async function events(box: Sandbox, name: string): Promise<any[]> {
  const r = await box.run(["events", name, "--no-follow"]);
  return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

test("http check: healthy; a 500 makes it unhealthy (status exit 1), restarted as a failure", async () => {
  const box = sandbox();
  const port = await freePort();
  const flag = box.path("broken");
  const r = await box.run([
    "start", "web", "--ready", `tcp:127.0.0.1:${port}`, "--health", `http://127.0.0.1:${port}/healthz`,
    "--health-interval", "200ms", "--health-timeout", "2s", "--health-retries", "2", "--stop-timeout", "1s",
    "--", ...httpServer(port, flag, true),
  ]);
  expect(r.code).toBe(0);
  const healthy = await statusWhen(box, "web", (d) => d.health === "healthy", "healthy", 10_000);
  expect(healthy.code).toBe(0);
  expect(healthy.doc.healthCheck).toMatchObject({ healthy: true, failures: 0 });
  expect(healthy.doc.healthCheck.output).toContain("HTTP 200");
  const firstPid = healthy.doc.child.pid as number;

  writeFileSync(flag, "");
  // The child ignores SIGTERM: for its 1 s stopTimeout it runs, unhealthy.
  const sick = await statusWhen(box, "web", (d) => d.health === "unhealthy", "unhealthy", 10_000);
  expect(sick.code).toBe(1);
  expect(sick.doc.state).toBe("running");
  expect(sick.doc.healthCheck).toMatchObject({ healthy: false, failures: 2 });
  expect(sick.doc.healthCheck.output).toContain("HTTP 500");
  const human = await box.run(["status", "web"]);
  expect(human.code).toBe(1);
  expect(human.stdout).toContain("running (unhealthy: HTTP 500");
  const unhealthy = (await events(box, "web")).find((e) => e.type === "unhealthy");
  expect(unhealthy).toMatchObject({ pid: firstPid });
  expect(unhealthy.message).toContain("HTTP 500");

  rmSync(flag);
  const again = await statusWhen(box, "web", (d) => d.child?.pid && d.child.pid !== firstPid && d.health === "healthy", "restarted and healthy", 15_000);
  expect(again.code).toBe(0);
  expect(again.doc.child.restarts).toBeGreaterThanOrEqual(1);
  expect(alive(firstPid)).toBe(false);
  expect((await box.run(["stop", "web"])).code).toBe(0);
}, 40_000);

test("onFailure none: same pid, reported unhealthy, then a `healthy` event when it recovers", async () => {
  const box = sandbox();
  const port = await freePort();
  const flag = box.path("broken");
  const config = box.path("daemonctl.json");
  writeFileSync(config, JSON.stringify({
    daemons: { api: { command: httpServer(port, flag), ready: `tcp:127.0.0.1:${port}`, health: { check: `http://127.0.0.1:${port}/`, interval: "200ms", retries: 2, onFailure: "none" } } },
  }));
  expect((await box.run(["start", "api", "--config", config])).code).toBe(0);
  const first = await statusWhen(box, "api", (d) => d.health === "healthy", "healthy", 10_000);
  const pid = first.doc.child.pid;

  writeFileSync(flag, "");
  const sick = await statusWhen(box, "api", (d) => d.health === "unhealthy", "unhealthy", 10_000);
  expect(sick.code).toBe(1);
  // It stays unhealthy and keeps running: no stop, no restart.
  await waitFor(async () => (await status(box, "api")).doc.healthCheck.failures >= 4, 10_000, "more failures");
  const still = await status(box, "api");
  expect(still.code).toBe(1);
  expect(still.doc.health).toBe("unhealthy");
  expect(still.doc.child).toMatchObject({ pid, restarts: 0 });

  rmSync(flag);
  await waitFor(async () => (await status(box, "api")).doc.health === "healthy", 10_000, "healthy again");
  expect((await box.run(["status", "api"])).code).toBe(0);
  const evs = await events(box, "api");
  const types = evs.filter((e) => e.type === "unhealthy" || e.type === "healthy").map((e) => `${e.type}:${e.pid}`);
  expect(types).toEqual([`unhealthy:${pid}`, `healthy:${pid}`]);
  expect(evs.some((e) => e.type === "stop" || e.type === "exit")).toBe(false);
}, 30_000);

test("tcp: and unix: checks; a socket that is not there is unhealthy and restarted", async () => {
  const box = sandbox();
  const port = await freePort();
  const sock = box.path("api.sock");
  const tcp = await box.run(["start", "t", "--health", `tcp:127.0.0.1:${port}`, "--health-interval", "200ms", "--ready", `tcp:127.0.0.1:${port}`, "--", BUN, "-e", `require("node:net").createServer(() => {}).listen(${port}, "127.0.0.1")`]);
  expect(tcp.code).toBe(0);
  const unix = await box.run(["start", "u", "--health", `unix:${sock}`, "--health-interval", "200ms", "--ready", `unix:${sock}`, "--", BUN, "-e", `require("node:net").createServer(() => {}).listen(${JSON.stringify(sock)})`]);
  expect(unix.code).toBe(0);
  for (const name of ["t", "u"]) {
    const s = await statusWhen(box, name, (d) => d.health === "healthy", `${name} healthy`, 10_000);
    expect(s.doc.healthCheck.output).toContain("connected to");
  }

  const missing = box.path("nothing.sock");
  // Two failures 300 ms apart: the first check runs the moment it is ready (executed), and
  // `start` must have seen it ready before the second one stops it.
  const r = await box.run(["start", "m", "--health", `unix:${missing}`, "--health-interval", "300ms", "--health-retries", "2", "--", "sleep", "1000"]);
  expect(r.code).toBe(0);
  const restarted = await statusWhen(box, "m", (d) => d.child?.restarts >= 1, "m restarted", 10_000);
  expect(restarted.doc.healthCheck.healthy).toBe(false);
  const unhealthy = (await events(box, "m")).find((e) => e.type === "unhealthy");
  expect(unhealthy?.message).toMatch(/ENOENT|no such file/i);
}, 30_000);

test("exec: a check that hangs is killed (its process group) at the timeout; checks never overlap", async () => {
  const box = sandbox();
  const pids = box.path("pids");
  // `sleep &` is a grandchild of the daemon's host: only a kill of the check's group reaches it.
  const hang = await box.run([
    "start", "hang", "--health", `exec:sleep 1000 & echo $! >> ${pids}; wait`, "--health-timeout", "300ms",
    "--health-interval", "100ms", "--health-retries", "1000", "--", "sleep", "1000",
  ]);
  expect(hang.code).toBe(0);
  const log = box.path("checks");
  const seq = await box.run(["start", "seq", "--health", `exec:echo S >> ${log}; sleep 0.15; echo E >> ${log}`, "--health-interval", "10ms", "--", "sleep", "1000"]);
  expect(seq.code).toBe(0);

  const first = Number(await waitFor(() => existsSync(pids) && readFileSync(pids, "utf8").split("\n")[0], 10_000, "first hanging check"));
  box.track(first);
  await waitFor(() => !alive(first), 5_000, `the hanging check's sleep (pid ${first}) to be killed`);
  const s = await statusWhen(box, "hang", (d) => d.healthCheck, "a result", 5_000);
  expect(s.doc.healthCheck.healthy).toBe(false);
  expect(s.doc.healthCheck.output).toContain("timed out after 300 ms");
  // Later checks too, one at a time: never more than one hanging sleep alive.
  await waitFor(() => readFileSync(pids, "utf8").split("\n").filter(Boolean).length >= 3, 10_000, "three checks");
  const all = readFileSync(pids, "utf8").split("\n").filter(Boolean).map(Number);
  for (const p of all) box.track(p);
  expect(all.filter((p) => alive(p)).length).toBeLessThanOrEqual(1);

  await waitFor(() => existsSync(log) && readFileSync(log, "utf8").split("\n").filter(Boolean).length >= 12, 10_000, "six checks");
  const marks = readFileSync(log, "utf8").split("\n").filter(Boolean);
  marks.forEach((m, i) => expect(`${i}:${m}`).toBe(`${i}:${i % 2 === 0 ? "S" : "E"}`));
  expect((await status(box, "seq")).doc.health).toBe("healthy");
}, 30_000);

test("startPeriod: failures within it do not count; a success during it is healthy", async () => {
  const box = sandbox();
  const r = await box.run(["start", "slow", "--health", "exec:exit 1", "--health-interval", "100ms", "--health-retries", "1", "--health-start-period", "1500ms", "--", "sleep", "1000"]);
  expect(r.code).toBe(0);
  const during = await statusWhen(box, "slow", (d) => d.healthCheck, "a first check", 5_000);
  expect(during.doc.health).toBe("starting");
  expect(during.doc.healthCheck).toMatchObject({ healthy: false, failures: 0 });
  expect(during.code).toBe(0);
  await waitFor(async () => (await events(box, "slow")).some((e) => e.type === "unhealthy"), 10_000, "unhealthy after the start period");
  const evs = await events(box, "slow");
  const spawned = Date.parse(evs.find((e) => e.type === "spawn").ts);
  const sick = Date.parse(evs.find((e) => e.type === "unhealthy").ts);
  expect(sick - spawned).toBeGreaterThanOrEqual(1400);

  const quick = await box.run(["start", "quick", "--health", "exec:true", "--health-interval", "5s", "--health-start-period", "30s", "--", "sleep", "1000"]);
  expect(quick.code).toBe(0);
  await waitFor(async () => (await status(box, "quick")).doc.health === "healthy", 5_000, "healthy during the start period");
}, 30_000);

test("a bad check is a config error naming key and value; tuning without --health is a usage error", async () => {
  const box = sandbox();
  const flag = await box.run(["start", "x", "--health", "ftp://h/", "--", "sleep", "1"]);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toContain('--health: "ftp://h/"');
  const config = box.path("daemonctl.json");
  writeFileSync(config, JSON.stringify({ daemons: { x: { command: ["sleep", "1"], health: { check: "tcp:nohost" } } } }));
  const cfg = await box.run(["start", "x", "--config", config]);
  expect(cfg.code).toBe(2);
  expect(cfg.stderr).toContain("daemons.x.health.check");
  expect(cfg.stderr).toContain('"tcp:nohost"');
  const stray = await box.run(["start", "x", "--health-interval", "1s", "--", "sleep", "1"]);
  expect(stray.code).toBe(2);
  expect(stray.stderr).toContain("--health-interval");
  const retries = await box.run(["start", "x", "--health", "exec:true", "--health-retries", "0", "--", "sleep", "1"]);
  expect(retries.code).toBe(2);
  expect(retries.stderr).toContain("--health-retries");
  expect(box.processes()).toEqual([]);
});

test("supervise: a daemon's health check; status exits 1 while it is unhealthy", async () => {
  const box = sandbox();
  const ok = box.path("ok");
  writeFileSync(ok, "");
  const config = box.path("daemonctl.json");
  writeFileSync(config, JSON.stringify({
    daemons: {
      checked: { command: ["sleep", "1000"], health: { check: `exec:test -f ${ok} || { echo missing ${ok}; exit 1; }`, interval: "100ms", retries: 2, onFailure: "none" } },
      plain: { command: ["sleep", "1001"] },
    },
  }));
  const sup = box.spawn(["supervise", "--config", config]);
  await waitFor(async () => (await status(box, "checked")).doc.health === "healthy", 10_000, "healthy");
  expect((await status(box, "plain")).doc).toMatchObject({ health: null, healthCheck: null });
  rmSync(ok);
  const sick = await statusWhen(box, "checked", (d) => d.health === "unhealthy", "unhealthy", 10_000);
  expect(sick.code).toBe(1);
  expect(sick.doc.healthCheck.output).toBe(`missing ${ok}`);
  sup.kill("SIGTERM");
  expect((await sup.waitExit(15_000)).code).toBe(0);
}, 30_000);
