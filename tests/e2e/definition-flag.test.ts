/**
 * `start --definition JSON|FILE`: a whole definition in one flag (how the library hands one to
 * the binary). Same identity as the same definition given as flags; problems name the key.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { json, sandboxes, waitFor } from "../helpers/harness.ts";

const sandbox = sandboxes();

test("inline and file definitions start the daemon, and equal the flags form (no replacement)", async () => {
  const box = sandbox();
  const def = { command: ["sleep", "1000"], restart: "always", env: { A: "1" }, stopTimeout: "3s" };
  const first = json(await box.run(["start", "d", "--json", "--definition", JSON.stringify(def)]));
  expect(first).toMatchObject({ state: "running", ready: true });
  const file = box.path("d.json");
  writeFileSync(file, JSON.stringify(def));
  const again = json(await box.run(["start", "d", "--json", "--definition", file]));
  expect(again.pid).toBe(first.pid);
  const flags = json(await box.run(["start", "d", "--json", "--restart", "always", "--env", "A=1", "--stop-timeout", "3s", "--", "sleep", "1000"]));
  expect(flags.pid).toBe(first.pid);
  expect(flags.identity).toBe(first.identity);
  // Flags and `--` override its keys: a new command replaces the daemon.
  const replaced = json(await box.run(["start", "d", "--json", "--definition", file, "--", "sleep", "1001"]));
  expect(replaced.pid).not.toBe(first.pid);
  expect(box.state("d").definition.command).toEqual(["sleep", "1001"]);
  expect(box.state("d").definition.restart).toBe("always");
});

test("a bad --definition is a usage error that names the key and the value; nothing starts", async () => {
  const box = sandbox();
  const bad = await box.run(["start", "d", "--definition", '{"command":["true"],"restart":"sometimes"}']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--definition: restart: "sometimes" is not valid; use no, on-failure, always');
  const notJson = await box.run(["start", "d", "--definition", "{nope"]);
  expect(notJson.code).toBe(2);
  expect(notJson.stderr).toContain("--definition: not JSON");
  const list = await box.run(["start", "d", "--definition", "[]"]);
  expect(list.code).toBe(2);
  expect(list.stderr).toContain("--definition: must be a JSON object");
  const array = await box.run(["start", "d", "--definition", box.path("missing.json")]);
  expect(array.code).toBe(2);
  expect(array.stderr).toContain(`--definition: cannot read ${box.path("missing.json")}`);
  // An unknown key is named (with a guess), not the whole object with "Invalid input".
  const typo = await box.run(["start", "d", "--definition", '{"command":["true"],"stopTimout":"3s"}']);
  expect(typo.code).toBe(2);
  expect(typo.stderr).toContain('--definition: unknown key "stopTimout" (did you mean "stopTimeout"?)');
  const named = await box.run(["start", "d", "--definition", '{"name":"d","command":["true"]}']);
  expect(named.stderr).toContain('--definition: unknown key "name" (the name is the NAME argument, not a key)');
  const nested = await box.run(["start", "d", "--definition", '{"command":["true"],"health":{"check":"tcp:127.0.0.1:1","intervall":"1s"}}']);
  expect(nested.stderr).toContain('--definition: health: unknown key "intervall"');
  const noCommand = await box.run(["start", "d", "--definition", '{"restart":"no"}']);
  expect(noCommand.stderr).toContain("--definition: command: missing (array expected)");
  const all = await box.run(["start", "--all", "--definition", '{"command":["true"]}']);
  expect(all.code).toBe(2);
  expect(all.stderr).toContain("--definition is one daemon's definition");
  expect(box.processes()).toEqual([]);
});

test("start --unless-stopped starts nothing after an operator's stop (exit 3, error stopped-by-operator), and starts a daemon that was never stopped", async () => {
  const box = sandbox();
  const first = await box.run(["start", "u", "--unless-stopped", "--json", "--", "sleep", "1000"]);
  expect(first.code).toBe(0);
  expect(json(first).state).toBe("running");
  expect((await box.run(["stop", "u"])).code).toBe(0);
  const refused = await box.run(["start", "u", "--unless-stopped", "--json", "--", "sleep", "1001"]);
  expect(refused.code).toBe(3);
  expect(json(refused)).toMatchObject({ name: "u", intent: "stopped", error: { code: "stopped-by-operator" } });
  expect(refused.stderr).toContain("daemonctl start u");
  expect(box.hosts("u")).toEqual([]);
  // Without the flag, start is the operator's own command: it starts it.
  expect((await box.run(["start", "u", "--", "sleep", "1001"])).code).toBe(0);
  expect(box.hosts("u").length).toBe(1);
});

test("start --unless-stopped inside a supervisor: a daemon an operator stopped there stays stopped", async () => {
  const box = sandbox();
  writeFileSync(box.path("daemonctl.json"), JSON.stringify({ daemons: { a: { command: ["sleep", "1000"] } } }));
  const sup = box.spawn(["supervise", "--config", box.path("daemonctl.json")]);
  await waitFor(async () => json(await box.run(["status", "a", "--json"])).state === "running", 10_000, "a to run");
  expect((await box.run(["stop", "a"])).code).toBe(0);
  const refused = await box.run(["start", "a", "--unless-stopped", "--json", "--config", box.path("daemonctl.json")]);
  expect(refused.code).toBe(3);
  expect(json(refused)).toMatchObject({ state: "stopped", intent: "stopped", error: { code: "stopped-by-operator" } });
  sup.kill("SIGTERM");
  await sup.waitExit();
});

test("--definition problems say what is expected, for types and empty lists too", async () => {
  const box = sandbox();
  const cases: Array<[object, string]> = [
    [{ command: [] }, "--definition: command: [] is not valid; needs at least 1 item"],
    [{ command: ["x"], env: { A: 1 } }, "--definition: env.A: 1 is not valid; expected a string"],
    [{ command: ["x"], log: "x.log" }, '--definition: log: "x.log" is not valid; expected an object'],
    [{ command: "sleep 1" }, '--definition: command: "sleep 1" is not valid; expected an array'],
  ];
  for (const [def, message] of cases) {
    const r = await box.run(["start", "d", "--definition", JSON.stringify(def)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  }
});

test("--health over a --definition keeps its health tuning, as over a config entry", async () => {
  const box = sandbox();
  const def = { command: ["sleep", "1000"], health: { check: "exec:true", interval: "7s" } };
  const r = await box.run(["start", "h", "--definition", JSON.stringify(def), "--health", "exec:exit 0"]);
  expect(r.code, r.stderr).toBe(0);
  const health = await waitFor(() => box.state("h")?.definition?.health, 10_000, "h's definition on record");
  expect(health).toMatchObject({ check: "exec:exit 0", interval: 7000 });
});
