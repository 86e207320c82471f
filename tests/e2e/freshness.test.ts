/**
 * Freshness by content (docs/configuration.md#where-a-definition-comes-from): touching keeps the
 * daemon, editing or redefining replaces it.
 */
import { expect, test } from "bun:test";
import { utimesSync, writeFileSync } from "node:fs";
import { Sandbox, alive, sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();

test("touching a watched file keeps the daemon; editing it replaces host and child", async () => {
  const box = sandbox();
  const conf = box.path("app.conf");
  writeFileSync(conf, "port=1\n");
  const args = ["start", "web", "--watch", conf, "--", "sleep", "1000"];
  expect((await box.run(args)).code).toBe(0);
  const first = box.metadata("web");
  const later = new Date(Date.now() + 5_000);
  utimesSync(conf, later, later);
  const touched = await box.run(args);
  expect(touched.code).toBe(0);
  expect(touched.stderr).toContain("already running");
  expect(box.metadata("web").pid).toBe(first.pid);

  writeFileSync(conf, "port=2\n");
  const edited = await box.run(args);
  expect(edited.code).toBe(0);
  expect(edited.stderr).toContain("replaced");
  const second = box.metadata("web");
  expect(second.pid).not.toBe(first.pid);
  expect(alive(first.pid)).toBe(false);
  expect(alive(first.child.pid)).toBe(false);
  expect(box.hosts("web")).toEqual([second.pid]);
});

test("a changed command replaces the daemon; the status of the old one says stale first", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  const first = box.metadata("web");
  const r = await box.run(["start", "web", "--", "sleep", "2000"]);
  expect(r.code).toBe(0);
  const second = box.metadata("web");
  expect(second.pid).not.toBe(first.pid);
  expect(alive(first.pid)).toBe(false);
  expect(alive(first.child.pid)).toBe(false);
  expect(box.children(["sleep", "1000"])).toHaveLength(0);
  expect(box.children(["sleep", "2000"])).toHaveLength(1);
});

test("status reports fresh=false once a watched file's content changes", async () => {
  const box = sandbox();
  const conf = box.path("app.conf");
  writeFileSync(conf, "a");
  expect((await box.run(["start", "web", "--watch", conf, "--", "sleep", "1000"])).code).toBe(0);
  writeFileSync(conf, "b");
  const st = JSON.parse((await box.run(["status", "web", "--json"])).stdout);
  expect(st.fresh).toBe(false);
  expect(st.state).toBe("running");
});

test("a definition from the config file: editing its entry replaces the daemon; `start NAME` alone reuses the stored one", async () => {
  const box = sandbox();
  const cfg = box.path("daemonctl.json");
  writeFileSync(cfg, JSON.stringify({ daemons: { web: { command: ["sleep", "1000"] } } }));
  expect((await box.run(["start", "web", "--config", cfg])).code).toBe(0);
  const first = box.metadata("web");
  expect((await box.run(["start", "web", "--config", cfg])).stderr).toContain("already running");
  writeFileSync(cfg, JSON.stringify({ daemons: { web: { command: ["sleep", "1001"] } } }));
  expect((await box.run(["start", "web", "--config", cfg])).code).toBe(0);
  expect(box.metadata("web").pid).not.toBe(first.pid);
  expect(box.children(["sleep", "1001"])).toHaveLength(1);
  // No command and no config: the stored definition.
  const stored = await box.run(["start", "web"]);
  expect(stored.code).toBe(0);
  expect(stored.stderr).toContain("already running");
});

test("no definition anywhere: usage error naming all three sources", async () => {
  const box = sandbox();
  const r = await box.run(["start", "web"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("-- CMD ARGS");
  expect(r.stderr).toContain("config file");
  expect(r.stderr).toContain("web.state.json");
});
