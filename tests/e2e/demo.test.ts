/**
 * `npm run demo` on the bundled example: the daemons' prefixed output shows, and Ctrl+C (SIGINT
 * to the foreground process group) stops everything cleanly, exit 0, nothing left running.
 * The demo's own command is taken from package.json and run the way npm runs it (`sh -c`); npm
 * itself reports 130 for any SIGINT, whatever its script did.
 */
import { expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT, alive, runProcess, waitFor } from "../helpers/harness.ts";

test("the demo shows prefixed output from every daemon and stops cleanly on Ctrl+C", async () => {
  const script: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.demo;
  rmSync(join(ROOT, ".demo"), { recursive: true, force: true });
  const env = { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}`, NO_COLOR: "1" };
  // detached: its own process group, like a terminal's foreground job.
  const demo = spawn("sh", ["-c", script], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  demo.stdout!.on("data", (d) => (out += d));
  demo.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => demo.once("exit", (code) => r(code)));
  try {
    await waitFor(() => ["[db]", "[api]", "[web]", "[janitor]"].every((p) => out.includes(p)) && /GET \/page\/\d+ -> hello from api/.test(out), 30_000, "output from every daemon");
    const status = await runProcess(join(ROOT, "dist/daemonctl"), ["status", "--json", "--runtime-dir", ".demo/run", "--state-dir", ".demo/state"], { cwd: ROOT, env: env as Record<string, string> });
    const daemons = JSON.parse(status.stdout).daemons as Array<{ name: string; pid: number | null; child: { pid: number | null } | null }>;
    const pids = [daemons[0]!.pid!, ...daemons.map((d) => d.child?.pid).filter((p): p is number => !!p)];
    expect(daemons.map((d) => d.name).sort()).toEqual(["api", "db", "janitor", "web"]);
    process.kill(-demo.pid!, "SIGINT");
    expect(await exited).toBe(0);
    await waitFor(() => pids.every((p) => !alive(p)), 5_000, "every demo process to be gone");
  } finally {
    try {
      process.kill(-demo.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    rmSync(join(ROOT, ".demo"), { recursive: true, force: true });
  }
}, 60_000);

test("the example image has what the example config runs (debian:bookworm-slim: sh and perl-base)", () => {
  const config = JSON.parse(readFileSync(join(ROOT, "examples/daemonctl.json"), "utf8"));
  for (const [name, d] of Object.entries(config.daemons as Record<string, { command: string[] }>)) {
    expect({ name, program: d.command[0] }).toEqual({ name, program: expect.stringMatching(/^(sh|perl)$/) });
  }
  const dockerfile = readFileSync(join(ROOT, "examples/Dockerfile"), "utf8");
  expect(dockerfile).toContain("FROM debian:bookworm-slim");
  expect(dockerfile).toContain("COPY daemonctl.json /etc/daemonctl.json");
});
