/**
 * One-shot tasks, `once`, and how dependencies compose with them (docs/lifecycle.md): driven
 * through the binary, standalone and inside `supervise`.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { json, sandboxes, waitFor, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();

/** Lines a task appended to `file` (one per run). */
function runs(box: Sandbox, file = "ran"): number {
  const p = box.path(file);
  return existsSync(p) ? readFileSync(p, "utf8").split("\n").filter(Boolean).length : 0;
}

function config(box: Sandbox, daemons: Record<string, unknown>): string {
  const path = box.path("daemonctl.json");
  writeFileSync(path, JSON.stringify({ daemons }));
  return path;
}

describe("standalone oneshot", () => {
  test("start --oneshot waits for completion: exit 0 is done (status 0), and the host is gone", async () => {
    const box = sandbox();
    const t0 = Date.now();
    const r = await box.run(["start", "mig", "--oneshot", "--", "sh", "-c", `sleep 0.4; echo x >> ${box.path("ran")}`]);
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(runs(box)).toBe(1);
    expect(r.stderr).toContain("mig done");
    const st = await box.run(["status", "mig", "--json"]);
    expect(st.code).toBe(0);
    expect(json(st).state).toBe("done");
    expect(json(st).child.lastExit.code).toBe(0);
    await waitFor(() => box.hosts("mig").length === 0, 5_000, "the oneshot's host to leave");
    // A later start runs it again.
    expect((await box.run(["start", "mig"])).code).toBe(0);
    expect(runs(box)).toBe(2);
  });

  test("a failing oneshot: the restart policy retries it, then start exits with the task's own code", async () => {
    const box = sandbox();
    const cfg = config(box, {
      task: { type: "oneshot", command: ["sh", "-c", `echo x >> ${box.path("ran")}; exit 3`], startLimit: { burst: 3 }, backoff: { initial: "50ms" } },
    });
    const r = await box.run(["start", "task", "--config", cfg]);
    expect(r.code).toBe(3);
    expect(runs(box)).toBe(3);
    expect(r.stderr).toContain("exited with code 3");
    const st = await box.run(["status", "task", "--json", "--config", cfg]);
    expect(st.code).toBe(1);
    expect(json(st).state).toBe("failed");
  });

  test("a oneshot that fails once and then succeeds is done; restart: no reports the first failure", async () => {
    const box = sandbox();
    const flaky = `echo x >> ${box.path("ran")}; test -f ${box.path("ok")} && exit 0; touch ${box.path("ok")}; exit 1`;
    const r = await box.run(["start", "flaky", "--oneshot", "--", "sh", "-c", flaky]);
    expect(r.code).toBe(0);
    expect(runs(box)).toBe(2);
    const killed = await box.run(["start", "k", "--oneshot", "--restart", "no", "--", "sh", "-c", "kill -9 $$"]);
    expect(killed.code).toBe(137);
  });

  test("once: success is recorded; later starts skip it, restart and a new definition run it again", async () => {
    const box = sandbox();
    const cmd = ["sh", "-c", `echo x >> ${box.path("ran")}`];
    expect((await box.run(["start", "seed", "--oneshot", "--once", "--", ...cmd])).code).toBe(0);
    const again = await box.run(["start", "seed", "--oneshot", "--once", "--", ...cmd]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already done");
    expect(runs(box)).toBe(1);
    expect(box.state("seed").completed.identity).toBe(box.state("seed").identity);
    expect(json(await box.run(["status", "seed", "--json"])).state).toBe("done");
    expect((await box.run(["restart", "seed"])).code).toBe(0);
    expect(runs(box)).toBe(2);
    expect((await box.run(["start", "seed"])).stderr).toContain("already done");
    expect(runs(box)).toBe(2);
    // Another command is another task.
    expect((await box.run(["start", "seed", "--oneshot", "--once", "--", "sh", "-c", `echo y >> ${box.path("ran")}`])).code).toBe(0);
    expect(runs(box)).toBe(3);
  });

  test("racing starts of one oneshot run it once and all report its completion", async () => {
    const box = sandbox();
    const args = ["start", "race", "--oneshot", "--", "sh", "-c", `echo x >> ${box.path("ran")}; sleep 0.5`];
    const results = await Promise.all(Array.from({ length: 4 }, () => box.run(args)));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(runs(box)).toBe(1);
  });

  test("a start that joined a run returns when an operator stops that run", async () => {
    const box = sandbox();
    const args = ["start", "st", "--oneshot", "--", "sleep", "30"];
    const first = box.run(args);
    await waitFor(async () => json(await box.run(["status", "st", "--json"])).child?.pid, 10_000, "the task running");
    const joiner = box.run(args);
    // Joined once it follows the host's events too: two client connections besides the listener.
    const accepted = () => readFileSync("/proc/net/unix", "utf8").split("\n").filter((l) => l.includes(`${box.runtimeDir}/.st.b`)).length - 1;
    await waitFor(() => accepted() >= 2, 10_000, "the joiner connected");
    await waitFor(async () => (await box.run(["stop", "st"])).code === 0, 5_000, "stop");
    const [a, b] = await Promise.all([first, joiner]);
    expect(a.code).not.toBe(0);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/stopped|went away/);
  }, 20_000);

  test("bad input: once without oneshot, an unknown type", async () => {
    const box = sandbox();
    const r = await box.run(["start", "x", "--once", "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("once applies to oneshot tasks");
    const cfg = config(box, { x: { type: "daily", command: ["true"] } });
    const bad = await box.run(["start", "x", "--config", cfg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("daemons.x.type");
    expect(bad.stderr).toContain("daily");
  });
});

describe("oneshot and dependencies inside supervise", () => {
  test("dependsOn a oneshot waits for its success; done is no death; a container restart runs it again unless once", async () => {
    const box = sandbox();
    const marker = box.path("migrated");
    const daemons = (once: boolean) => ({
      migrate: { type: "oneshot", once, command: ["sh", "-c", `sleep 0.3; echo x >> ${box.path("ran")}; touch ${marker}`] },
      web: { dependsOn: ["migrate"], command: ["sh", "-c", `test -f ${marker} || exit 9; exec sleep 1000`] },
    });
    const cfg = config(box, daemons(false));
    const sup = box.spawn(["supervise", "--config", cfg]);
    await waitFor(async () => json(await box.run(["status", "web", "--json", "--config", cfg])).state === "running", 10_000, "web running after migrate");
    expect(sup.stderr).toContain("web waits for migrate to be done");
    const st = await box.run(["status", "migrate", "--json", "--config", cfg]);
    expect(st.code).toBe(0);
    expect(json(st).state).toBe("done");
    expect(json(await box.run(["status", "web", "--json", "--config", cfg])).child.restarts).toBe(0);
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
    expect(runs(box)).toBe(1);

    // A new container: the task runs again.
    const sup2 = box.spawn(["supervise", "--config", cfg]);
    await waitFor(() => runs(box) === 2, 10_000, "migrate to run again");
    await waitFor(async () => json(await box.run(["status", "web", "--json", "--config", cfg])).state === "running", 10_000, "web running");
    sup2.kill("SIGTERM");
    expect((await sup2.waitExit()).code).toBe(0);

    // With once: its success is recorded by the next run, and the run after that skips it.
    const cfgOnce = config(box, daemons(true));
    for (const expected of [3, 3]) {
      const s = box.spawn(["supervise", "--config", cfgOnce]);
      await waitFor(async () => json(await box.run(["status", "web", "--json", "--config", cfgOnce])).state === "running", 10_000, "web running");
      expect(runs(box)).toBe(expected);
      expect(json(await box.run(["status", "migrate", "--json", "--config", cfgOnce])).state).toBe("done");
      s.kill("SIGTERM");
      expect((await s.waitExit()).code).toBe(0);
    }
  });

  test("a failed oneshot holds its dependents back; supervise with only oneshots exits 0 when all are done", async () => {
    const box = sandbox();
    const cfg = config(box, {
      broken: { type: "oneshot", restart: "no", command: ["sh", "-c", "exit 4"] },
      app: { dependsOn: ["broken"], command: ["sleep", "1000"] },
    });
    const sup = box.spawn(["supervise", "--config", cfg]);
    await waitFor(async () => json(await box.run(["status", "broken", "--json", "--config", cfg])).state === "failed", 10_000, "broken failed");
    const app = await box.run(["status", "app", "--json", "--config", cfg]);
    expect(json(app).child?.pid ?? null).toBeNull();
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(4);

    const cfg2 = config(box, {
      one: { type: "oneshot", command: ["true"] },
      two: { type: "oneshot", dependsOn: ["one"], command: ["sh", "-c", `echo x >> ${box.path("ran")}`] },
    });
    const sup2 = box.spawn(["supervise", "--config", cfg2]);
    const end = await sup2.waitExit(10_000);
    expect(end.code).toBe(0);
    expect(runs(box)).toBe(1);
  });

  test("a oneshot that failed its start limit runs again at the next boot; done survives the supervisor's exit", async () => {
    const box = sandbox();
    const gate = box.path("gate");
    const cfg = config(box, {
      mig: { type: "oneshot", startLimit: { burst: 2 }, backoff: { initial: "50ms" }, command: ["sh", "-c", `echo x >> ${box.path("ran")}; test -f ${gate}`] },
      web: { dependsOn: ["mig"], command: ["sleep", "1000"] },
    });
    const sup = box.spawn(["supervise", "--config", cfg]);
    await waitFor(async () => json(await box.run(["status", "mig", "--json", "--config", cfg])).state === "failed", 10_000, "mig failed");
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(1);
    expect(runs(box)).toBe(2);
    writeFileSync(gate, "");
    const sup2 = box.spawn(["supervise", "--config", cfg]);
    await waitFor(async () => json(await box.run(["status", "web", "--json", "--config", cfg])).state === "running", 10_000, "web running after mig");
    expect(runs(box)).toBe(3);
    sup2.kill("SIGTERM");
    expect((await sup2.waitExit()).code).toBe(0);
    const after = await box.run(["status", "mig", "--json", "--config", cfg]);
    expect(json(after).state).toBe("done");
    expect(after.code).toBe(0);
  });

  test("inside supervise, a start waiting for a oneshot returns when an operator stops it", async () => {
    const box = sandbox();
    const cfg = config(box, { app: { command: ["sleep", "1000"] }, mig: { type: "oneshot", autostart: false, command: ["sleep", "30"] } });
    const sup = box.spawn(["supervise", "--config", cfg]);
    await waitFor(async () => json(await box.run(["status", "app", "--json", "--config", cfg])).state === "running", 10_000, "app running");
    const start = box.run(["start", "mig", "--config", cfg]);
    await waitFor(async () => json(await box.run(["status", "mig", "--json", "--config", cfg])).child?.pid, 10_000, "mig running");
    expect((await box.run(["stop", "mig", "--config", cfg])).code).toBe(0);
    const r = await start;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("was stopped");
    sup.kill("SIGTERM");
    await sup.waitExit();
  }, 20_000);

  test("a dependency's restart: dependents get dependency-restart; restartWith ones restart after it", async () => {
    const box = sandbox();
    const cfg = config(box, {
      db: { command: ["sleep", "1000"], backoff: { initial: "50ms" } },
      api: { dependsOn: ["db"], restartWith: true, command: ["sleep", "1000"] },
      cron: { dependsOn: ["db"], command: ["sleep", "1000"] },
    });
    const sup = box.spawn(["supervise", "--config", cfg]);
    const child = async (name: string) => json(await box.run(["status", name, "--json", "--config", cfg])).child?.pid ?? null;
    await waitFor(async () => (await child("api")) && (await child("cron")), 10_000, "all running");
    const [db0, api0, cron0] = [await child("db"), await child("api"), await child("cron")];
    const events = box.spawn(["events", "api", "cron"]);
    await waitFor(() => events.child.pid !== undefined, 2_000, "events follower");
    expect((await box.run(["signal", "db", "KILL", "--config", cfg])).code).toBe(0);
    await waitFor(async () => {
      const [db, api] = [await child("db"), await child("api")];
      return db && db !== db0 && api && api !== api0;
    }, 10_000, "db and api restarted");
    expect(await child("cron")).toBe(cron0);
    await waitFor(() => (events.stdout.match(/"dependency-restart"/g) ?? []).length >= 2, 5_000, "dependency-restart events");
    const notes = events.stdout.split("\n").filter((l) => l.includes("dependency-restart")).map((l) => JSON.parse(l));
    expect(notes.map((e) => e.name).sort()).toEqual(["api", "cron"]);
    expect(notes.every((e) => e.message === "db")).toBe(true);
    events.kill("SIGTERM");
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  });
});
