/**
 * Env files (docs/configuration.md#env-files), through the binary: values reach the child in
 * order, mistakes are config errors, content decides freshness, and `supervise` reads them too.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { alive, json, sandboxes, waitFor, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();

/** A daemon that writes A, B, C and D as `K=[value]` lines to `out`, then stays. */
function reporter(box: Sandbox, out = "out"): string[] {
  const file = box.path(out);
  return ["sh", "-c", `printf 'A=[%s]\\nB=[%s]\\nC=[%s]\\nD=[%s]\\n' "$A" "$B" "$C" "$D" > ${file}.tmp; mv ${file}.tmp ${file}; exec sleep 1000`];
}

async function reported(box: Sandbox, out = "out"): Promise<string> {
  const file = box.path(out);
  await waitFor(() => existsSync(file), 10_000, `${out} to be written`);
  return readFileSync(file, "utf8");
}

function config(box: Sandbox, web: Record<string, unknown>, others: Record<string, unknown> = {}): string {
  const path = box.path("daemonctl.json");
  writeFileSync(path, JSON.stringify({ daemons: { web: { command: reporter(box), ...web }, ...others } }));
  return path;
}

test("values reach the child: quote forms, later files win, env wins over files, an optional missing file is fine", async () => {
  const box = sandbox();
  writeFileSync(box.path("base.env"), ["# base", "export A='single $HOME'", 'B="two\\nlines \\"q\\""', "C=from-file # comment", "D=base", ""].join("\r\n"));
  writeFileSync(box.path("over.env"), "D = over\n");
  const cfg = config(box, { envFile: ["base.env", "-missing.env", "over.env"], env: { C: "from-env" } });
  const r = await box.run(["start", "web", "--config", cfg]);
  expect(r.code).toBe(0);
  expect(await reported(box)).toBe('A=[single $HOME]\nB=[two\nlines "q"]\nC=[from-env]\nD=[over]\n');
  // Stored with absolute paths, the optional marker kept.
  expect(box.state("web").definition.envFile).toEqual([box.path("base.env"), `-${box.path("missing.env")}`, box.path("over.env")]);
});

test("a missing required file or a bad line is a config error (exit 2) naming key, path and line; nothing starts", async () => {
  const box = sandbox();
  const cfg = config(box, { envFile: "app.env" });
  const missing = await box.run(["start", "web", "--config", cfg]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(`${cfg}: daemons.web.envFile: ${box.path("app.env")}: no such file`);

  writeFileSync(box.path("app.env"), "A=1\n\nB='open\n");
  const bad = await box.run(["start", "web", "--config", cfg]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain(`daemons.web.envFile: ${box.path("app.env")}:3: unterminated single quote`);

  const flag = await box.run(["start", "web", "--env-file", "nope.env", "--", "sleep", "1000"], { cwd: box.dir });
  expect(flag.code).toBe(2);
  expect(flag.stderr).toContain(`--env-file: ${box.path("nope.env")}: no such file`);
  expect(box.hosts("web")).toEqual([]);
  expect(box.metadata("web")).toBeNull();
});

test("--env-file: repeatable, relative to the caller's directory, -FILE optional, --env wins", async () => {
  const box = sandbox();
  writeFileSync(box.path("a.env"), "A=a\nB=a\n");
  writeFileSync(box.path("b.env"), "B=b\nC=b\n");
  const r = await box.run(["start", "web", "--env-file", "a.env", "--env-file", "-none.env", "--env-file", "b.env", "--env", "C=flag", "--", ...reporter(box)], { cwd: box.dir });
  expect(r.code).toBe(0);
  expect(await reported(box)).toBe("A=[a]\nB=[b]\nC=[flag]\nD=[]\n");
});

test("editing an env file makes the daemon stale so start replaces it; touching it does not", async () => {
  const box = sandbox();
  const env = box.path("app.env");
  writeFileSync(env, "A=1\n");
  const args = ["start", "web", "--env-file", env, "--", ...reporter(box)];
  expect((await box.run(args)).code).toBe(0);
  expect(await reported(box)).toContain("A=[1]");
  const first = box.metadata("web");

  const later = new Date(Date.now() + 5_000);
  utimesSync(env, later, later);
  expect(json(await box.run(["status", "web", "--json"])).fresh).toBe(true);
  const touched = await box.run(args);
  expect(touched.code).toBe(0);
  expect(touched.stderr).toContain("already running");
  expect(box.metadata("web").child.pid).toBe(first.child.pid);

  writeFileSync(env, "A=2\n");
  expect(json(await box.run(["status", "web", "--json"])).fresh).toBe(false);
  const edited = await box.run(args);
  expect(edited.code).toBe(0);
  expect(edited.stderr).toContain("replaced");
  const second = box.metadata("web");
  expect(second.child.pid).not.toBe(first.child.pid);
  expect(alive(first.child.pid)).toBe(false);
  await waitFor(() => existsSync(box.path("out")) && readFileSync(box.path("out"), "utf8").includes("A=[2]"), 10_000, "the new value");
});

test("an env file gone bad before a restart: the start fails at once, naming path and line", async () => {
  const box = sandbox();
  const env = box.path("app.env");
  writeFileSync(env, "A=1\n");
  expect((await box.run(["start", "web", "--env-file", env, "--", ...reporter(box)])).code).toBe(0);
  const child = box.metadata("web").child.pid;
  writeFileSync(env, "A=1\nnot a line\n");
  process.kill(child, "SIGKILL");
  // A standalone host ends with its daemon; its log keeps why.
  await waitFor(() => box.hosts("web").length === 0, 10_000, "the host to give up");
  const log = readFileSync(box.path("s", "logs", "web.log"), "utf8");
  expect(log).toContain(`cannot start sh: env file ${env}:2: expected KEY=VALUE`);
  expect(log).toContain("(state failed)");
  // One attempt, not a crash loop.
  expect(log.match(/cannot start sh: env file/g)).toHaveLength(1);
});

test("supervise: a config's envFile reaches its daemon, gone bad it fails the restart, fixed start runs it; a missing one refuses to boot", async () => {
  const box = sandbox();
  const env = box.path("app.env");
  writeFileSync(env, "A=from-file\nB=\"x y\"\n");
  // `keep` keeps the container up while web is failed (supervise ends when every daemon has).
  const cfg = config(box, { envFile: ["app.env"] }, { keep: { command: ["sleep", "1001"] } });
  const sup = box.spawn(["supervise", "--config", cfg]);
  expect(await reported(box)).toBe("A=[from-file]\nB=[x y]\nC=[]\nD=[]\n");

  writeFileSync(env, "A=1\n2B=x\n");
  process.kill(json(await box.run(["status", "web", "--json", "--config", cfg])).child.pid, "SIGKILL");
  const failed = await waitFor(async () => {
    const st = json(await box.run(["status", "web", "--json", "--config", cfg]));
    return st.state === "failed" && st;
  }, 10_000, "web to fail");
  expect(failed.error.message).toContain(`env file ${env}:2: "2B" is not a valid variable name`);

  writeFileSync(env, "A=fixed\n");
  const again = await box.run(["start", "web", "--config", cfg]);
  expect(again.code).toBe(0);
  await waitFor(() => readFileSync(box.path("out"), "utf8").startsWith("A=[fixed]"), 10_000, "the fixed value");
  sup.kill("SIGTERM");
  expect((await sup.waitExit()).code).toBe(0);

  const broken = config(box, { envFile: ["app.env", "gone.env"] });
  const r = await box.run(["supervise", "--config", broken]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`daemons.web.envFile: ${box.path("gone.env")}: no such file`);
});
