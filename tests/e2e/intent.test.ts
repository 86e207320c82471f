/** Planned stop versus unplanned signal, run intent, reconcile (docs/run-intent.md). */
import { expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { Sandbox, alive, json, waitFor, sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();
const SLEEP = ["sleep", "1000"];

async function runningForeground(box: Sandbox, name: string) {
  const p = box.spawn(["start", name, "--foreground", "--", ...SLEEP]);
  await waitFor(async () => (await box.run(["status", name])).code === 0, 10_000, `${name} running`);
  return p;
}

test("stop: exit 0, intent stopped, marker consumed, status 3; stopping again is 0", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
  const meta = box.metadata("web");
  const r = await box.run(["stop", "web"]);
  expect(r.code).toBe(0);
  expect(box.state("web").intent).toBe("stopped");
  expect(existsSync(`${box.runtimeDir}/web.stop.json`)).toBe(false);
  expect(existsSync(`${box.runtimeDir}/web.sock`)).toBe(false);
  expect(existsSync(`${box.runtimeDir}/web.json`)).toBe(false);
  expect(alive(meta.pid)).toBe(false);
  expect(alive(meta.child.pid)).toBe(false);
  const st = await box.run(["status", "web", "--json"]);
  expect(st.code).toBe(3);
  expect(json(st).state).toBe("stopped");
  expect((await box.run(["stop", "web"])).code).toBe(0);
});

test("kill -TERM on a foreground host: exit 143, intent running, status 1, reconcile starts it; after stop it stays down", async () => {
  const box = sandbox();
  const host = await runningForeground(box, "web");
  host.kill("SIGTERM");
  expect((await host.waitExit()).code).toBe(143);
  expect(box.state("web").intent).toBe("running");
  const st = await box.run(["status", "web", "--json"]);
  expect(st.code).toBe(1);
  expect(json(st).state).toBe("dead");
  const rec = await box.run(["reconcile"]);
  expect(rec.code).toBe(0);
  expect(rec.stdout).toContain("web: started");
  expect((await box.run(["status", "web"])).code).toBe(0);
  expect((await box.run(["stop", "web"])).code).toBe(0);
  const again = await box.run(["reconcile", "--json"]);
  expect(json(again)).toEqual([{ name: "web", prior: "stopped/stopped", action: "left-down" }]);
  expect((await box.run(["status", "web"])).code).toBe(3);
});

test.each([
  ["SIGHUP", 129],
  ["SIGQUIT", 131],
])("unplanned %s exits 128+N and keeps intent running", async (sig, code) => {
  const box = sandbox();
  const host = await runningForeground(box, "web");
  host.kill(sig as NodeJS.Signals);
  expect((await host.waitExit()).code).toBe(code);
  expect(box.state("web").intent).toBe("running");
});

test("SIGINT (Ctrl+C) on a foreground host is planned: exit 0, intent stopped", async () => {
  const box = sandbox();
  const host = await runningForeground(box, "web");
  host.kill("SIGINT");
  expect((await host.waitExit()).code).toBe(0);
  expect(box.state("web").intent).toBe("stopped");
});

test("a marker naming another pid does not make a TERM planned (and is removed)", async () => {
  const box = sandbox();
  const host = await runningForeground(box, "web");
  const marker = { schema: "daemonctl/planned-stop@1", name: "web", pid: 1, pidIdentity: "nope:1", stopperPid: 1, reason: "stop", at: new Date().toISOString() };
  writeFileSync(`${box.runtimeDir}/web.stop.json`, JSON.stringify(marker));
  host.kill("SIGTERM");
  expect((await host.waitExit()).code).toBe(143);
  expect(box.state("web").intent).toBe("running");
  expect(existsSync(`${box.runtimeDir}/web.stop.json`)).toBe(false);
});

test("a fresh marker naming this host makes a plain TERM planned", async () => {
  const box = sandbox();
  const host = await runningForeground(box, "web");
  const meta = box.metadata("web");
  const marker = { schema: "daemonctl/planned-stop@1", name: "web", pid: meta.pid, pidIdentity: meta.pidIdentity, stopperPid: process.pid, reason: "stop", at: new Date().toISOString() };
  writeFileSync(`${box.runtimeDir}/web.stop.json`, JSON.stringify(marker));
  host.kill("SIGTERM");
  expect((await host.waitExit()).code).toBe(0);
  expect(box.state("web").intent).toBe("stopped");
  expect(existsSync(`${box.runtimeDir}/web.stop.json`)).toBe(false);
});

test("a stale marker (older than 60 s) naming this host is ignored", async () => {
  const box = sandbox();
  const host = await runningForeground(box, "web");
  const meta = box.metadata("web");
  const marker = { schema: "daemonctl/planned-stop@1", name: "web", pid: meta.pid, pidIdentity: meta.pidIdentity, stopperPid: 1, reason: "stop", at: new Date(Date.now() - 61_000).toISOString() };
  writeFileSync(`${box.runtimeDir}/web.stop.json`, JSON.stringify(marker));
  host.kill("SIGTERM");
  expect((await host.waitExit()).code).toBe(143);
  expect(box.state("web").intent).toBe("running");
});

test("stop of a daemon whose host is dead records intent stopped so reconcile leaves it down", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
  const meta = box.metadata("web");
  process.kill(meta.pid, "SIGKILL");
  await waitFor(() => !alive(meta.pid), 5_000, "host death");
  expect((await box.run(["stop", "web"])).code).toBe(0);
  expect(alive(meta.child.pid)).toBe(false); // the orphan was proven ours and stopped
  expect(box.state("web").intent).toBe("stopped");
  expect(json(await box.run(["reconcile", "--json"]))[0].action).toBe("left-down");
});

test("stop --all stops every known daemon", async () => {
  const box = sandbox();
  for (const n of ["a", "b", "c"]) expect((await box.run(["start", n, "--", ...SLEEP])).code).toBe(0);
  expect((await box.run(["stop", "--all"])).code).toBe(0);
  for (const n of ["a", "b", "c"]) expect((await box.run(["status", n])).code).toBe(3);
});

test("restart: the child is replaced, intent stays running", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
  const before = box.metadata("web");
  const r = await box.run(["restart", "web"]);
  expect(r.code).toBe(0);
  const after = box.metadata("web");
  expect(after.child.pid).not.toBe(before.child.pid);
  expect(alive(before.child.pid)).toBe(false);
  expect(box.state("web").intent).toBe("running");
  expect(box.children(SLEEP)).toHaveLength(1);
});

test("restart is no operator's stop: a start --unless-stopped while it stops the daemon is not refused", async () => {
  const box = sandbox();
  // Takes about 2 s to stop on SIGTERM: the restart's stop phase is a wide window.
  const slow = ["sh", "-c", "trap 'sleep 2; exit 0' TERM; while :; do sleep 0.1; done"];
  expect((await box.run(["start", "slow", "--", ...slow])).code).toBe(0);
  const restart = box.run(["restart", "slow"]);
  await waitFor(async () => json(await box.run(["status", "slow", "--json"])).state === "stopping", 10_000, "slow to be stopping");
  expect(box.state("slow").intent).toBe("running");
  const tool = await box.run(["start", "slow", "--unless-stopped", "--", ...slow]);
  expect(tool.code, tool.stderr).toBe(0);
  expect((await restart).code).toBe(0);
  expect(box.state("slow").intent).toBe("running");
});

test("SIGINT to a detached host is not an operator's Ctrl+C: unplanned, intent stays running", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  const pid = box.metadata("web").pid;
  process.kill(pid, "SIGINT");
  await waitFor(() => !alive(pid), 10_000, "the host to exit");
  expect(box.state("web").intent).toBe("running");
  expect((await box.run(["status", "web"])).code).toBe(1);
});
