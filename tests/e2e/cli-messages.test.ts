/** Issue 16: the CLI as people already expect it (docs/status.md, docs/run-intent.md). */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { BIN, json, runProcess, sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();

test("a missing -- is shown corrected, for start and restart, with or without the command's own flags", async () => {
  const box = sandbox();
  const cases: Array<[string[], string]> = [
    [["start", "w", "sleep", "100"], "daemonctl start w -- sleep 100"],
    [["start", "w", "python3", "-m", "http.server"], "daemonctl start w -- python3 -m http.server"],
    [["restart", "w", "python3", "-m", "http.server"], "daemonctl restart w -- python3 -m http.server"],
  ];
  for (const [args, fixed] of cases) {
    const r = await box.run(args);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 2, stderr: expect.stringContaining(fixed) });
  }
  expect((await box.run(["start", "w", "--", "sleep", "100"])).code).toBe(0);
  const r = await box.run(["restart", "w", "sleep", "200"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("daemonctl restart w -- sleep 200");
});

test("a name defined nowhere: status exits 4 (unknown-daemon), stop, restart and logs fail; a stopped one stays 0", async () => {
  const box = sandbox();
  expect((await box.run(["start", "a", "--", "sleep", "100"])).code).toBe(0);
  expect((await box.run(["start", "b", "--", "sleep", "100"])).code).toBe(0);
  const status = await box.run(["status", "ghost"]);
  expect(status.code).toBe(4);
  expect(status.stdout).toContain("no daemon named ghost (known: a, b)");
  const doc = json(await box.run(["status", "ghost", "--json"]));
  expect({ state: doc.state, code: doc.error.code }).toEqual({ state: "unknown", code: "unknown-daemon" });
  for (const cmd of ["stop", "restart", "logs"]) {
    const r = await box.run([cmd, "ghost"]);
    expect({ cmd, code: r.code, stderr: r.stderr }).toEqual({ cmd, code: 2, stderr: expect.stringContaining("no daemon named ghost (known: a, b)") });
  }
  expect(json(await box.run(["stop", "ghost", "--json"])).error.code).toBe("unknown-daemon");
  expect((await box.run(["stop", "a"])).code).toBe(0);
  expect((await box.run(["stop", "a"])).code).toBe(0); // known, already stopped
  expect((await box.run(["status", "a"])).code).toBe(3);
  // Defined only in the config file: known, never started, so stopped.
  writeFileSync(box.path("daemonctl.json"), JSON.stringify({ daemons: { c: { command: ["sleep", "1"] } } }));
  expect((await box.run(["status", "c"], { cwd: box.dir })).code).toBe(3);
  expect((await box.run(["stop", "c"], { cwd: box.dir })).code).toBe(0);
});

test("typos get did-you-mean: commands, flags, flag values, config keys; bad JSON gives line and column", async () => {
  const box = sandbox();
  const stats = await box.run(["stats"]);
  expect({ code: stats.code, stderr: stats.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('did you mean "status"?') });
  expect((await box.run(["status", "--jsno"])).stderr).toContain("did you mean --json?");
  const lines = await box.run(["logs", "x", "-n", "ten"]);
  expect(lines.stderr).toContain('--lines: "ten" is not a whole number of lines; use 0, 50 or 200');
  writeFileSync(box.path("daemonctl.json"), JSON.stringify({ daemons: { a: { command: ["true"] } } }));
  const format = await box.run(["supervise", "--log-format", "jsn", "--config", box.path("daemonctl.json")]);
  expect(format.stderr).toContain('--log-format: "jsn" is not a log format; use text or json (did you mean "json"?)');
  writeFileSync(box.path("daemonctl.json"), '{\n  "daemons": {\n    "a": { "comand": ["sleep", "1"] }\n  }\n}\n');
  const key = await box.run(["start", "a"], { cwd: box.dir });
  expect({ code: key.code, stderr: key.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('unknown key "comand" (did you mean "command"?)') });
  writeFileSync(box.path("daemonctl.json"), '{\n  "daemons": {\n    "a": { "command": ["sleep", "1"], }\n  }\n}\n');
  const bad = await box.run(["start", "a"], { cwd: box.dir });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("not valid JSON at line 3, column 39");
});

test("reconcile speaks in sentences; --json keeps the fields", async () => {
  const box = sandbox();
  expect((await box.run(["start", "api", "--", "sleep", "100"])).code).toBe(0);
  expect((await box.run(["start", "db", "--", "sleep", "100"])).code).toBe(0);
  expect((await box.run(["stop", "db"])).code).toBe(0);
  const r = await box.run(["reconcile"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("api: already running\ndb: left down (stopped by an operator)\n");
  expect(json(await box.run(["reconcile", "--json"]))).toEqual([
    { name: "api", prior: "running/running", action: "already-running" },
    { name: "db", prior: "stopped/stopped", action: "left-down" },
  ]);
});

test("help lists help and version; USAGE shows -- CMD [ARGS…]", async () => {
  const box = sandbox();
  const root = await box.run(["--help"]);
  expect(root.stdout).toMatch(/^\s+help\s/m);
  expect(root.stdout).toMatch(/^\s+version\s/m);
  for (const cmd of ["start", "restart", "supervise"]) expect((await box.run([cmd, "--help"])).stdout).toMatch(/USAGE .*-- CMD \[ARGS…\]/);
});

test("list and status colour states on a terminal only, and not with NO_COLOR or --no-color", async () => {
  const probe = await runProcess("script", ["-qc", "true", "/dev/null"], { env: process.env as Record<string, string>, timeoutMs: 5_000 }).catch(() => null);
  if (!probe || probe.code !== 0) return console.warn("SKIP: script(1) is not available to give daemonctl a terminal");
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "100"])).code).toBe(0);
  const onTty = (args: string, env: Record<string, string | undefined> = {}) =>
    runProcess("script", ["-qc", `${BIN} ${args}`, "/dev/null"], { env: box.env({ NO_COLOR: undefined, ...env }), timeoutMs: 10_000 });
  expect((await onTty("status web")).stdout).toContain("\x1b[32mrunning\x1b[0m");
  expect((await onTty("list")).stdout).toContain("\x1b[32mrunning");
  expect((await onTty("status web", { NO_COLOR: "1" })).stdout).not.toContain("\x1b[");
  expect((await onTty("status web --no-color")).stdout).not.toContain("\x1b[");
  const piped = await box.run(["status", "web"], { env: { NO_COLOR: undefined } });
  expect(piped.stdout).toBe(`${piped.stdout.split("\n")[0]}\n`);
  expect(piped.stdout).not.toContain("\x1b[");
});
