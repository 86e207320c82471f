/** The same source under Deno (`deno run -A src/main.ts`) interoperates with the compiled binary. */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, json, runProcess, sandboxes, type Sandbox } from "../helpers/harness.ts";

const DENO = join(ROOT, "node_modules/.bin/deno");
const MAIN = join(ROOT, "src/main.ts");

const sandbox = sandboxes();

function deno(box: Sandbox, args: string[]) {
  return runProcess(DENO, ["run", "-A", MAIN, ...args], { env: { ...box.env(), DENO_NO_UPDATE_CHECK: "1" }, cwd: box.dir, timeoutMs: 60_000 });
}

test("start under Deno, status and stop with the compiled binary, and the other way round", async () => {
  if (!existsSync(DENO)) return console.warn("SKIP: deno is not installed (npm ci installs it)");
  const box = sandbox();
  const started = await deno(box, ["start", "web", "--", "sleep", "1000"]);
  expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("web started") });
  const host = box.metadata("web").pid;
  expect((await runProcess("ps", ["-o", "args=", "-p", String(host)], { env: process.env as Record<string, string> })).stdout).toContain("deno");
  const st = await box.run(["status", "web", "--json"]);
  expect(st.code).toBe(0);
  expect(json(st).pid).toBe(host);
  expect((await box.run(["stop", "web"])).code).toBe(0);
  expect((await deno(box, ["status", "web"])).code).toBe(3);

  expect((await box.run(["start", "api", "--", "sleep", "1000"])).code).toBe(0);
  const viaDeno = await deno(box, ["status", "api", "--json"]);
  expect(viaDeno.code).toBe(0);
  expect(json(viaDeno).state).toBe("running");
  expect((await deno(box, ["stop", "api"])).code).toBe(0);
  expect((await box.run(["status", "api"])).code).toBe(3);
}, 90_000);

test("every source file type-checks for Deno", async () => {
  if (!existsSync(DENO)) return console.warn("SKIP: deno is not installed (npm ci installs it)");
  const files = [...new Bun.Glob("src/**/*.ts").scanSync(ROOT)].sort();
  expect(files.length).toBeGreaterThan(40);
  const r = await runProcess(DENO, ["check", ...files], { cwd: ROOT, env: { ...(process.env as Record<string, string>), NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" }, timeoutMs: 120_000 });
  expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
}, 120_000);
