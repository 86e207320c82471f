/** Follow-ups from trying issue 16 as a new user: the reason given is the real one. */
import { expect, test } from "bun:test";
import { json, sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();

test("a missing working directory is named, not reported as command not found", async () => {
  const box = sandbox();
  const r = await box.run(["start", "nc", "--cwd", box.path("nonexistent"), "--", "sleep", "10"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`its working directory ${box.path("nonexistent")} does not exist`);
  expect(r.stderr).not.toContain("command not found");
});

test("a daemon that could not be executed keeps saying so after its host has gone", async () => {
  const box = sandbox();
  expect((await box.run(["start", "x", "--", "/nonexistent"])).code).toBe(1);
  const st = await box.run(["status", "x", "--json"]);
  expect(json(st)).toMatchObject({ state: "failed", error: { code: "cannot-execute" } });
});

test("bad definition flags name the flag and the value", async () => {
  const box = sandbox();
  const r = await box.run(["start", "w", "--restart", "sometimes", "--", "true"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('--restart: "sometimes" is not valid; use no, on-failure, always') });
  const s = await box.run(["start", "w", "--stop-signal", "SIGFOO", "--", "true"]);
  expect(s.stderr).toContain('--stop-signal: "SIGFOO" is not valid');
});

test("a short --wait is no warning when readiness is instant; a daemon that ends is named, not its host", async () => {
  const box = sandbox();
  const q = await box.run(["start", "q", "--wait", "5", "--", "sleep", "100"]);
  expect(q.code).toBe(0);
  expect(q.stderr).not.toContain("[warn]");
  const ok = await box.run(["start", "ok", "--restart", "no", "--ready", "delay:100ms", "--", "sh", "-c", "exit 3"]);
  expect(ok.code).toBe(1);
  expect(ok.stderr).toContain("ok exited with code 3 before it was ready");
  expect(ok.stderr).not.toContain("the host for");
});

test("bad config values name the key and the value", async () => {
  const box = sandbox();
  const { writeFileSync } = await import("node:fs");
  writeFileSync(box.path("c.json"), JSON.stringify({ daemons: { web: { command: ["sleep", "1"], stopTimeout: "5x" } } }));
  const r = await box.run(["start", "web", "--config", box.path("c.json")]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("daemons.web.stopTimeout");
  expect(r.stderr).toContain('(got "5x")');
});
