/** CLI surface: --version, --help on every command, --no-wait, stop when the marker cannot be written. */
import { expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { Sandbox, json, setprivProblem, waitFor, sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();

const COMMANDS = ["start", "stop", "restart", "delete", "signal", "status", "list", "logs", "events", "metrics", "reconcile", "supervise", "schema", "completion"];

test("--version prints the package version and the commit; --help works for every command", async () => {
  const box = sandbox();
  const v = await box.run(["--version"]);
  expect(v.code).toBe(0);
  expect(v.stdout).toMatch(/^daemonctl \d+\.\d+\.\d+ \(([0-9a-f]{7,}(-dirty)?|unknown)\)\n$/);
  const root = await box.run(["--help"]);
  expect(root.code).toBe(0);
  for (const c of COMMANDS) {
    expect(root.stdout).toContain(c);
    const h = await box.run([c, "--help"]);
    expect({ c, code: h.code }).toEqual({ c, code: 0 });
    expect(h.stdout).toContain("USAGE");
    expect(h.stdout).not.toContain("\x1b["); // plain when piped
  }
  expect((await box.run([])).code).toBe(2);
});

test("--no-wait returns before readiness; the daemon comes up on its own", async () => {
  const box = sandbox();
  const r = await box.run(["start", "slow", "--no-wait", "--ready", "delay:1s", "--", "sleep", "1000"]);
  expect(r.code).toBe(0);
  expect(r.ms).toBeLessThan(1_000);
  await waitFor(async () => (await box.run(["status", "slow"])).code === 0, 10_000, "slow to be ready");
});

test("start --json prints the status document", async () => {
  const box = sandbox();
  const r = await box.run(["start", "j", "--json", "--", "sleep", "1000"]);
  expect(r.code).toBe(0);
  expect(json(r)).toMatchObject({ schema: "daemonctl/status@1", name: "j", state: "running" });
  const bad = await box.run(["start", "k", "--json", "--restart", "no", "--", "sh", "-c", "exit 4"]);
  expect(bad.code).toBe(1);
  expect(json(bad).error.code).toBe("start-failed");
});

test("stop proceeds when the planned-stop marker cannot be written (read-only runtime dir)", async () => {
  const skip = await setprivProblem();
  if (skip) return console.warn(`SKIP: ${skip}`);
  const box = sandbox({ unprivileged: true });
  const as = { unprivileged: true };
  expect((await box.run(["start", "web", "--", "sleep", "1000"], as)).code).toBe(0);
  chmodSync(box.runtimeDir, 0o500);
  try {
    const r = await box.run(["stop", "web"], as);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("cannot write planned-stop marker") });
    expect(box.state("web").intent).toBe("stopped");
    expect((await box.run(["status", "web"], as)).code).toBe(3);
  } finally {
    chmodSync(box.runtimeDir, 0o700);
  }
});

test("a regular file where the socket should be is never deleted", async () => {
  const box = sandbox();
  expect((await box.run(["start", "x", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["stop", "x"])).code).toBe(0);
  await Bun.write(`${box.runtimeDir}/x.sock`, "not a socket");
  const r = await box.run(["start", "x", "--", "sleep", "1000"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("is not a socket");
  expect(await Bun.file(`${box.runtimeDir}/x.sock`).text()).toBe("not a socket");
});
