/** `status --json` shape and LSB exit codes (docs/status.md). */
import { expect, test } from "bun:test";
import { Sandbox, alive, json, waitFor, sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();

const FIELDS = ["schema", "name", "state", "ready", "intent", "pid", "pidIdentity", "socketPath", "startedAt", "uptimeMs", "identity", "fresh", "child", "logPath", "version", "protocolVersion", "error", "statusText", "health", "healthCheck"];

function expectShape(doc: any) {
  expect(Object.keys(doc).sort()).toEqual([...FIELDS].sort());
  expect(doc.schema).toBe("daemonctl/status@1");
}

test("running: exit 0 and every field present", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  const r = await box.run(["status", "web", "--json"]);
  expect(r.code).toBe(0);
  const doc = json(r);
  expectShape(doc);
  expect(doc).toMatchObject({ state: "running", ready: true, intent: "running", fresh: true, protocolVersion: 1, error: null });
  expect(doc.child.pid).toBe(box.metadata("web").child.pid);
  expect(Object.keys(doc.child).sort()).toEqual(["lastExit", "pid", "restarts", "startedAt"]);
});

test("a name defined nowhere: exit 4, state unknown, one JSON document, every field present", async () => {
  const box = sandbox();
  const r = await box.run(["status", "nothing", "--json"]);
  expect(r.code).toBe(4);
  const doc = json(r);
  expectShape(doc);
  expect(doc.state).toBe("unknown");
  expect(doc.error.code).toBe("unknown-daemon");
});

test("dead (host gone, intent running): exit 1 with an error object", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  const pid = box.metadata("web").pid;
  process.kill(pid, "SIGKILL");
  await waitFor(() => !alive(pid), 5_000, "host death");
  const r = await box.run(["status", "web", "--json"]);
  expect(r.code).toBe(1);
  const doc = json(r);
  expectShape(doc);
  expect(doc.state).toBe("dead");
  expect(doc.pid).toBeNull();
  expect(doc.error.code).toBe("host-gone");
});

test("hung (frozen host): exit 4, decided within the probe timeout", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  const pid = box.metadata("web").pid;
  process.kill(pid, "SIGSTOP");
  box.track(pid);
  const r = await box.run(["status", "web", "--json", "--probe-timeout", "300ms"]);
  expect(r.code).toBe(4);
  expect(json(r).state).toBe("hung");
  expectShape(json(r));
  expect(r.ms).toBeLessThan(300 + 1_000);
  process.kill(pid, "SIGCONT");
});

test("no names: the status-list of every known daemon; several names: 0 only if all run", async () => {
  const box = sandbox();
  expect((await box.run(["start", "a", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["start", "b", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["stop", "b"])).code).toBe(0);
  const r = await box.run(["status", "--json"]);
  const doc = json(r);
  expect(doc.schema).toBe("daemonctl/status-list@1");
  expect(doc.daemons.map((d: any) => [d.name, d.state])).toEqual([["a", "running"], ["b", "stopped"]]);
  expect(r.code).toBe(3);
  expect((await box.run(["status", "a"])).code).toBe(0);
  expect((await box.run(["status", "a", "b"])).code).toBe(3);
  expect((await box.run(["status", "b", "a"])).code).toBe(3);
});

test("usage errors still print pure JSON with --json, and exit 2", async () => {
  const box = sandbox();
  const r = await box.run(["status", "bad/name", "--json"]);
  expect(r.code).toBe(2);
  expect(json(r).error.code).toBe("usage");
});

test("list --json is an array of status objects", async () => {
  const box = sandbox();
  expect((await box.run(["start", "a", "--", "sleep", "1000"])).code).toBe(0);
  const r = await box.run(["list", "--json"]);
  expect(r.code).toBe(0);
  const doc = json(r);
  expect(doc).toHaveLength(1);
  expectShape(doc[0]);
  const table = await box.run(["list"]);
  expect(table.stdout).toMatch(/^NAME\s+STATE/);
  expect(table.stdout).toMatch(/\na\s+running\s+running/);
});
