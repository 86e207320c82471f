/**
 * Durations read from people: a bare number is seconds (flags, config, environment), while
 * stored definitions keep their integer milliseconds; `stop` says when it escalated to SIGKILL
 * (docs/configuration.md, docs/run-intent.md).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { BIN, alive, json, runProcess, waitFor, sandboxes, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();
/** Ignores SIGTERM: only SIGKILL ends it. */
const STUBBORN = ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"];

test("--stop-timeout 1 is one second: stop takes about 1 s and says it sent SIGKILL", async () => {
  const box = sandbox();
  expect((await box.run(["start", "w", "--stop-timeout", "1", "--", ...STUBBORN])).code).toBe(0);
  expect(box.state("w").definition.stopTimeout).toBe(1000);
  const child = box.metadata("w").child.pid;
  const stop = await box.run(["stop", "w"]);
  expect(stop.code).toBe(0);
  expect(stop.ms).toBeGreaterThanOrEqual(900);
  expect(stop.ms).toBeLessThan(6_000);
  expect(stop.stderr).toContain("w stopped (SIGKILL after 1 s: it did not exit on SIGTERM)");
  expect(alive(child)).toBe(false);
});

test("a clean stop says nothing about SIGKILL; --json says killed: false", async () => {
  const box = sandbox();
  expect((await box.run(["start", "ok", "--", "sleep", "1000"])).code).toBe(0);
  const stop = await box.run(["stop", "ok", "--json"]);
  expect(stop.code).toBe(0);
  expect(stop.stderr).not.toContain("SIGKILL");
  expect(json(stop)[0]).toMatchObject({ name: "ok", stopped: true, killed: false });
});

test("a bad duration names the flag and the value", async () => {
  const box = sandbox();
  const r = await box.run(["start", "w", "--stop-timeout", "5x", "--", "true"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--stop-timeout: "5x" is not a duration');
});

/** Runs `supervise` for a TERM-ignoring daemon, sends TERM, and returns how long shutdown took. */
async function shutdownMs(box: Sandbox, config: object, env: Record<string, string> = {}): Promise<number> {
  const cfg = box.path("daemonctl.json");
  writeFileSync(cfg, JSON.stringify(config));
  const sup = box.spawn(["supervise", "--config", cfg], { env });
  await waitFor(async () => json(await box.run(["status", "stubborn", "--json"])).state === "running", 10_000, "stubborn running");
  const t0 = Date.now();
  sup.kill("SIGTERM");
  await sup.waitExit(15_000);
  return Date.now() - t0;
}

test('config "grace": 1 is one second, and so is DAEMONCTL_GRACE=1', async () => {
  const daemons = { stubborn: { command: STUBBORN } };
  const fromConfig = await shutdownMs(sandbox(), { grace: 1, daemons });
  expect(fromConfig).toBeGreaterThanOrEqual(900);
  expect(fromConfig).toBeLessThan(6_000);
  const fromEnv = await shutdownMs(sandbox(), { grace: "30s", daemons }, { DAEMONCTL_GRACE: "1" });
  expect(fromEnv).toBeGreaterThanOrEqual(900);
  expect(fromEnv).toBeLessThan(6_000);
});

test("a stored definition's integer milliseconds stay milliseconds (identity unchanged)", async () => {
  const box = sandbox();
  // Stored by a start from the command line: stopTimeout 1500 (ms), as every earlier version wrote it.
  expect((await box.run(["start", "w", "--stop-timeout", "1500ms", "--", ...STUBBORN])).code).toBe(0);
  const first = box.state("w");
  expect(first.definition.stopTimeout).toBe(1500);
  expect((await box.run(["stop", "w"])).code).toBe(0);
  // Started again from the stored definition: 1500 must not be read as 1500 s.
  expect((await box.run(["start", "w"])).code).toBe(0);
  const again = box.state("w");
  expect(again.definition.stopTimeout).toBe(1500);
  expect(again.identity).toBe(first.identity);
  const stop = await box.run(["stop", "w"]);
  expect(stop.ms).toBeGreaterThanOrEqual(1_400);
  expect(stop.ms).toBeLessThan(6_000);
  expect(stop.stderr).toContain("SIGKILL after 1.5 s");
});

describe("slow starts", () => {
  test("piped: no progress line; an explicit --wait below the readiness timeout is raised, and said", async () => {
    const box = sandbox();
    const r = await box.run(["start", "slow", "--wait", "1", "--ready", "delay:1.5s", "--", "sleep", "1000"]);
    expect(r.code).toBe(0); // the wait was raised: ready after 1.5 s, past the 1 s asked for
    expect(r.stderr).not.toContain("waiting for");
    expect(r.stderr).not.toContain("\r");
    expect(r.stderr).toContain("slow: --wait 1 s is shorter than its readiness timeout (10 s); waiting up to 12 s");
  });

  test("--ready-timeout sets readyTimeout; a --wait that covers it gets no note", async () => {
    const box = sandbox();
    const r = await box.run(["start", "never", "--ready-timeout", "1", "--wait", "1", "--restart", "no", "--ready", "exec:false", "--", "sleep", "1000"]);
    expect(r.code).toBe(1);
    expect(box.state("never").definition.readyTimeout).toBe(1000);
    expect(r.stderr).not.toContain("--wait");
    expect(r.ms).toBeLessThan(6_000);
  });

  // `script` (util-linux) gives daemonctl a terminal for stderr.
  const script = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));
  if (!script) console.log("cli-durations.test.ts: skipping the terminal progress test: util-linux `script` is not installed");
  test.skipIf(!script)("on a terminal: `waiting for delay:1.5s (1 s of 10 s)`, rewritten in place and erased", async () => {
    const box = sandbox();
    const cmd = `${BIN} start tty --ready delay:1.5s -- sleep 1000`;
    const r = await runProcess(script!, ["-qc", cmd, "/dev/null"], { env: box.env(), cwd: box.dir, timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\r\x1b[Kwaiting for delay:1.5s (1 s of 10 s)");
    expect(r.stdout).toContain("\r\x1b[K[info] tty started"); // erased before the next line (NO_COLOR)
  });
});
