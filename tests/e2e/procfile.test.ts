/**
 * Procfiles (docs/containers.md#procfiles): `supervise --procfile` and `start --procfile` run
 * each `name: command` line as an ordinary daemon, with PORT as foreman assigns it.
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, json, sandboxes, waitFor, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();
const lines = (s: string) => s.split("\n").filter(Boolean);

function withProcfile(text: string, path = "Procfile"): Sandbox {
  const box = sandbox();
  mkdirSync(box.path(path, ".."), { recursive: true });
  writeFileSync(box.path(path), text);
  return box;
}

const TWO = "# two entries\nweb: echo port=$PORT; exec sleep 1000\n\nworker: echo port=$PORT; exec sleep 1000\n";

describe("supervise --procfile", () => {
  test("./Procfile: prefixed output with PORT 5000 and 5100; status, stop and start from another process; SIGTERM exits 0", async () => {
    const box = withProcfile(TWO);
    const sup = box.spawn(["supervise", "--procfile"]);
    await waitFor(() => sup.stdout.includes("port=5100") && sup.stdout.includes("port=5000"), 10_000, "both entries' output");
    expect(lines(sup.stdout)).toEqual(expect.arrayContaining(["[web]    port=5000", "[worker] port=5100"]));

    const st = await waitFor(async () => {
      const doc = json(await box.run(["status", "--json"]));
      return doc.daemons.every((d: any) => d.state === "running") && doc;
    }, 10_000, "both running");
    expect(st.daemons.map((d: any) => [d.name, d.state, d.pid])).toEqual([["web", "running", sup.pid], ["worker", "running", sup.pid]]);

    const identity = st.daemons[1].identity;
    // The docker exec path: stop sticks as intent, start brings it back under the same supervisor.
    expect((await box.run(["stop", "worker"])).code).toBe(0);
    expect((await box.run(["status", "worker"])).code).toBe(3);
    expect(box.state("worker").intent).toBe("stopped");
    const start = await box.run(["start", "worker"]);
    expect(start.code).toBe(0);
    await waitFor(() => sup.stdout.split("[worker] port=5100").length === 3, 10_000, "worker's second run");
    const worker = json(await box.run(["status", "worker", "--json"]));
    // Started with the definition the supervisor stored: the same identity, nothing swapped.
    expect([worker.state, worker.pid, worker.intent, worker.identity]).toEqual(["running", sup.pid, "running", identity]);

    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
  });

  test("--procfile FILE in another directory with --port-base 6000: cwd is the Procfile's directory; a config's daemons are replaced, its grace kept", async () => {
    const box = withProcfile("a: echo port=$PORT cwd=$(pwd); exec sleep 1000\nb: echo port=$PORT; exec sleep 1000\n", "app/Procfile");
    writeFileSync(box.path("daemonctl.json"), JSON.stringify({ grace: "3s", daemons: { old: { command: ["sleep", "1000"] } } }));
    const sup = box.spawn(["supervise", "--procfile", "app/Procfile", "--port-base", "6000"]);
    await waitFor(() => sup.stdout.includes("port=6100"), 10_000, "b's output");
    await waitFor(() => sup.stdout.includes(`[a] port=6000 cwd=${box.path("app")}`), 5_000, "a's output");
    expect(sup.stderr).toContain(`the daemons of ${box.path("app/Procfile")} replace those of ${box.path("daemonctl.json")} (old)`);
    expect((await box.run(["status", "old"])).code).not.toBe(0);
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(0);
    expect(sup.stderr).toContain("grace 3 s");
  });

  test("a line that does not parse, a missing Procfile, a bad --port-base: exit 2 before anything starts", async () => {
    const box = withProcfile("web: sleep 1000\n# fine\nthis is no entry\n");
    const bad = await box.run(["supervise", "--procfile"], { cwd: box.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${box.path("Procfile")}:3: not a "name: command" line`);

    const dup = withProcfile("web: a\nweb: b\n");
    const twice = await dup.run(["supervise", "--procfile=Procfile"], { cwd: dup.dir });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("Procfile:2:");

    const missing = await box.run(["supervise", "--procfile", "nope/Procfile"], { cwd: box.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`Procfile ${box.path("nope/Procfile")} does not exist`);

    const ok = withProcfile("web: sleep 1000\n");
    const port = await ok.run(["supervise", "--procfile", "--port-base", "70000"], { cwd: ok.dir });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port-base: "70000" is not a port');
    expect(ok.processes()).toEqual([]);
  });
});

describe("start --procfile", () => {
  test("starts each entry as a standalone daemon with its PORT; again is a no-op; names select entries; stop stops them", async () => {
    const box = withProcfile(TWO);
    const first = await box.run(["start", "--procfile"], { cwd: box.dir });
    expect(first.code).toBe(0);
    const before = json(await box.run(["status", "--json"])).daemons;
    expect(before.map((d: any) => [d.name, d.state])).toEqual([["web", "running"], ["worker", "running"]]);
    // Each its own host, not one process for both.
    expect(before[0].pid).not.toBe(before[1].pid);
    await waitFor(async () => (await box.run(["logs", "worker"])).stdout.includes("port=5100"), 5_000, "worker's PORT in its log");
    expect((await box.run(["logs", "web"])).stdout).toContain("port=5000");

    // The same definition again: nothing replaced.
    expect((await box.run(["start", "worker", "--procfile"], { cwd: box.dir })).code).toBe(0);
    const after = json(await box.run(["status", "--json"])).daemons;
    expect(after.map((d: any) => d.child.pid)).toEqual(before.map((d: any) => d.child.pid));

    const unknown = await box.run(["start", "db", "--procfile"], { cwd: box.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no entry "db"; it defines web, worker');

    expect((await box.run(["stop", "--all"])).code).toBe(0);
    expect(json(await box.run(["status", "--json"])).daemons.map((d: any) => d.state)).toEqual(["stopped", "stopped"]);
  });
});

test("examples/Procfile runs: the poller reaches web on the PORT below its own", async () => {
  const box = sandbox();
  copyFileSync(join(ROOT, "examples/Procfile"), box.path("Procfile"));
  // Away from 5000 and from other test files' ports; PORT, PORT+100 and PORT+200 are used.
  const base = 20_000 + (process.pid % 2_000) * 10;
  const sup = box.spawn(["supervise", "--procfile", "--port-base", String(base)]);
  await waitFor(() => sup.stdout.includes("[poller] GET /page/") && / -> hello from web, you asked for \/page\/\d+/.test(sup.stdout), 15_000, "the poller's answer from web");
  expect(sup.stdout).toContain(`[web]    listening on http://127.0.0.1:${base}`);
  expect(sup.stdout).toMatch(/\[clock\]  tick \d\d:\d\d:\d\d/);
  sup.kill("SIGTERM");
  expect((await sup.waitExit()).code).toBe(0);
});
