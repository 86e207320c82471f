/**
 * Reloading a running supervisor (docs/containers.md#reloading-the-config): `daemonctl reload`
 * and SIGHUP apply the difference between the running set and the config file.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { json, sandboxes, waitFor, type Proc, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();

function writeConfig(box: Sandbox, daemons: Record<string, unknown>): string {
  const path = box.path("daemonctl.json");
  writeFileSync(path, JSON.stringify({ daemons }));
  return path;
}

async function childPid(box: Sandbox, cfg: string, name: string): Promise<number | null> {
  return json(await box.run(["status", name, "--json", "--config", cfg])).child?.pid ?? null;
}

async function supervise(box: Sandbox, cfg: string, names: string[]): Promise<Proc> {
  const sup = box.spawn(["supervise", "--config", cfg]);
  for (const n of names) await waitFor(() => childPid(box, cfg, n), 10_000, `${n} running`);
  return sup;
}

const sleeper = (n: number) => ({ command: ["sleep", String(1000 + n)] });

describe("reload", () => {
  test("adds, removes and restarts what changed, leaves the rest alone; --dry-run changes nothing", async () => {
    const box = sandbox();
    const cfg = writeConfig(box, { a: sleeper(1), b: sleeper(2), c: sleeper(3) });
    const sup = await supervise(box, cfg, ["a", "b", "c"]);
    const [a0, b0, c0] = [await childPid(box, cfg, "a"), await childPid(box, cfg, "b"), await childPid(box, cfg, "c")];
    writeConfig(box, { a: sleeper(1), b: sleeper(20), d: sleeper(4) });

    const dry = await box.run(["reload", "--dry-run", "--json", "--config", cfg]);
    expect(dry.code).toBe(0);
    expect(json(dry)).toEqual({ dryRun: true, added: ["d"], removed: ["c"], changed: ["b"], unchanged: ["a"] });
    expect(await childPid(box, cfg, "c")).toBe(c0);
    expect(await childPid(box, cfg, "b")).toBe(b0);

    const r = await box.run(["reload", "--config", cfg]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("added: d");
    expect(r.stderr).toContain("removed: c");
    await waitFor(() => childPid(box, cfg, "d"), 10_000, "d started");
    await waitFor(async () => {
      const b = await childPid(box, cfg, "b");
      return b !== null && b !== b0;
    }, 10_000, "b restarted");
    expect(await childPid(box, cfg, "a")).toBe(a0);
    expect(box.processes().some((p) => p.pid === c0)).toBe(false);
    // c is forgotten: no state, no socket, not listed.
    await waitFor(() => !existsSync(box.path("s", "c.state.json")) && !existsSync(box.path("r", "c.sock")), 5_000, "c's files gone");
    const list = json(await box.run(["list", "--json", "--config", cfg]));
    expect(list.map((d: any) => d.name).sort()).toEqual(["a", "b", "d"]);
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  });

  test("an invalid config changes nothing and the error comes back to reload; SIGHUP reloads too", async () => {
    const box = sandbox();
    const cfg = writeConfig(box, { a: sleeper(1) });
    const sup = await supervise(box, cfg, ["a"]);
    const a0 = await childPid(box, cfg, "a");
    writeFileSync(cfg, '{"daemons": {"a": {"command": ["sleep", "1001"], "restart": "sometimes"}}}');
    const bad = await box.run(["reload", "--config", cfg]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("nothing changed");
    expect(bad.stderr).toContain("daemons.a.restart");
    expect(await childPid(box, cfg, "a")).toBe(a0);
    expect(sup.stderr).toContain("the new config is invalid");

    writeConfig(box, { a: sleeper(1), b: sleeper(2) });
    sup.kill("SIGHUP");
    await waitFor(() => childPid(box, cfg, "b"), 10_000, "b started by SIGHUP");
    expect(await childPid(box, cfg, "a")).toBe(a0);
    expect(sup.child.exitCode).toBeNull();
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  });

  test("added daemons follow recorded intent and autostart; a reload answered on a removed daemon's socket still arrives", async () => {
    const box = sandbox();
    const cfg = writeConfig(box, { aa: sleeper(1), zz: sleeper(2) });
    const sup = await supervise(box, cfg, ["aa", "zz"]);
    // A daemon an operator stopped earlier keeps its intent when it comes back into the config.
    expect((await box.run(["stop", "zz", "--config", cfg])).code).toBe(0);
    writeConfig(box, { zz: sleeper(2), lazy: { ...sleeper(3), autostart: false } });
    const r = await box.run(["reload", "--json", "--config", cfg]);
    expect(r.code).toBe(0);
    expect(json(r).removed).toEqual(["aa"]);
    expect(json(r).added).toEqual(["lazy"]);
    await waitFor(async () => json(await box.run(["status", "lazy", "--json", "--config", cfg])).intent !== null, 10_000, "lazy added");
    expect(json(await box.run(["status", "lazy", "--json", "--config", cfg])).state).toBe("stopped");
    expect(json(await box.run(["status", "zz", "--json", "--config", cfg])).state).toBe("stopped");
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  });

  test("racing reloads and a SIGHUP apply one at a time: one child per daemon", async () => {
    const box = sandbox();
    const cfg = writeConfig(box, { a: sleeper(1) });
    const sup = await supervise(box, cfg, ["a"]);
    writeConfig(box, { a: sleeper(10), b: sleeper(2), c: sleeper(3) });
    const runs = Array.from({ length: 4 }, () => box.run(["reload", "--json", "--config", cfg]));
    sup.kill("SIGHUP");
    const results = await Promise.all(runs);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    // Exactly one of them did the work; the others found nothing to do.
    expect(results.filter((r) => json(r).added.length > 0).length).toBeLessThanOrEqual(1);
    for (const n of ["a", "b", "c"]) await waitFor(() => childPid(box, cfg, n), 10_000, `${n} running`);
    await waitFor(() => box.processes().filter((p) => p.argv[0] === "sleep").length === 3, 5_000, "three sleeps");
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  });

  test("a shutdown during a reload waits for it: the removed daemon is stopped and forgotten, its exit code not counted", async () => {
    const box = sandbox();
    const slow = { command: ["sh", "-c", "trap 'sleep 1; exit 3' TERM; while :; do sleep 0.1; done"], stopTimeout: "10s" };
    const cfg = writeConfig(box, { a: sleeper(1), slow });
    const sup = await supervise(box, cfg, ["a", "slow"]);
    const slowPid = (await childPid(box, cfg, "slow"))!;
    writeConfig(box, { a: sleeper(1), b: sleeper(2) });
    expect((await box.run(["reload", "--config", cfg])).code).toBe(0);
    await waitFor(() => box.processes().some((p) => p.pid === slowPid), 1_000, "slow still stopping");
    sup.kill("SIGTERM");
    const end = await sup.waitExit(15_000);
    expect(end.code).toBe(0);
    expect(box.processes().some((p) => p.pid === slowPid)).toBe(false);
    expect(existsSync(box.path("s", "slow.state.json"))).toBe(false);
    expect(existsSync(box.path("r", "slow.sock"))).toBe(false);
  }, 20_000);

  test("removed daemons stop in reverse dependency order; a changed dependsOn is honoured; remove then re-add works", async () => {
    const box = sandbox();
    const log = box.path("order");
    const stopper = (n: string, extra: Record<string, unknown> = {}) => ({ command: ["sh", "-c", `trap 'echo ${n} >> ${log}; exit 0' TERM; while :; do sleep 0.05; done`], ...extra });
    const cfg = writeConfig(box, { db: stopper("db"), web: stopper("web", { dependsOn: ["db"] }), x: sleeper(9) });
    const sup = await supervise(box, cfg, ["db", "web", "x"]);
    writeConfig(box, { x: sleeper(9) });
    expect((await box.run(["reload", "--config", cfg])).code).toBe(0);
    await waitFor(() => existsSync(log) && Bun.file(log).size > 0 && !existsSync(box.path("r", "db.sock")), 10_000, "db and web removed");
    expect((await Bun.file(log).text()).trim().split("\n")).toEqual(["web", "db"]);

    // x now waits for a new daemon that is slow to be ready.
    const x0 = await childPid(box, cfg, "x");
    writeConfig(box, { x: { ...sleeper(9), dependsOn: ["slowdb"] }, slowdb: { command: ["sleep", "1000"], ready: "delay:1s" } });
    const t0 = Date.now();
    expect((await box.run(["reload", "--config", cfg])).code).toBe(0);
    await waitFor(async () => {
      const x = await childPid(box, cfg, "x");
      return x !== null && x !== x0;
    }, 10_000, "x restarted");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);

    // Gone and back at once: still supervised.
    writeConfig(box, { slowdb: { command: ["sleep", "1000"], ready: "delay:1s" } });
    expect((await box.run(["reload", "--config", cfg])).code).toBe(0);
    writeConfig(box, { x: sleeper(9), slowdb: { command: ["sleep", "1000"], ready: "delay:1s" } });
    expect((await box.run(["reload", "--config", cfg])).code).toBe(0);
    await waitFor(() => childPid(box, cfg, "x"), 10_000, "x back");
    expect(sup.stderr).not.toContain("outside this supervisor");
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  }, 30_000);

  test("a reload during shutdown is refused; reload without a supervisor says so", async () => {
    const box = sandbox();
    const none = await box.run(["reload"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no `daemonctl supervise`");
    const cfg = writeConfig(box, { slow: { command: ["sh", "-c", "trap 'sleep 1; exit 0' TERM; while :; do sleep 0.1; done"] } });
    const sup = await supervise(box, cfg, ["slow"]);
    sup.kill("SIGTERM");
    await waitFor(async () => json(await box.run(["status", "slow", "--json", "--config", cfg])).state === "stopping", 5_000, "shutting down");
    const r = await box.run(["reload", "--config", cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("shutting down");
    expect((await sup.waitExit()).code).toBe(0);
  });
});

describe("taking over from a standalone host", () => {
  test("supervise replaces a standalone host of another definition and runs the daemon (a replace is no operator's stop)", async () => {
    const box = sandbox();
    expect((await box.run(["start", "x", "--", "sleep", "1001"])).code).toBe(0);
    const old = json(await box.run(["status", "x", "--json"]));
    const cfg = writeConfig(box, { x: sleeper(2) });
    const sup = box.spawn(["supervise", "--config", cfg]);
    await waitFor(async () => {
      const s = json(await box.run(["status", "x", "--json", "--config", cfg]));
      return s.state === "running" && s.pid !== old.pid;
    }, 15_000, "x running under the supervisor");
    expect(box.state("x").intent).toBe("running");
    expect(box.processes().some((p) => p.pid === old.child.pid)).toBe(false);
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  }, 30_000);
});

describe("reload and a frozen supervisor", () => {
  test("SIGSTOPped: reload says the supervisor does not answer (not that there is none), within seconds", async () => {
    const box = sandbox();
    const cfg = writeConfig(box, { a: sleeper(1) });
    const sup = await supervise(box, cfg, ["a"]);
    process.kill(sup.pid, "SIGSTOP");
    try {
      const t0 = Date.now();
      const r = await box.run(["reload", "--config", cfg]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("does not answer");
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      process.kill(sup.pid, "SIGCONT");
    }
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  }, 20_000);
});
