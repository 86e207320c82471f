/**
 * Singleton starts under races, and reclaiming dead, frozen and foreign owners
 * (docs/how-it-works.md#the-host-and-its-bind-guard, docs/how-it-works.md#the-client-spawner).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Sandbox, alive, json, waitFor, type Proc, sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();

const SLEEP = ["sleep", "1000"];

describe("racing starts", () => {
  test("8 racing `start --foreground` leave exactly one host and one child (5 trials)", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const box = sandbox();
      const procs: Proc[] = [];
      for (let i = 0; i < 8; i++) procs.push(box.spawn(["start", "web", "--foreground", "--", ...SLEEP]));
      // Losers exit 0 ("already running"); the winner stays in the foreground.
      await waitFor(() => procs.filter((p) => p.child.exitCode !== null).length === 7, 20_000, "7 of 8 racers to exit");
      for (const p of procs) if (p.child.exitCode !== null) expect(p.child.exitCode).toBe(0);
      await waitFor(() => box.children(SLEEP).length === 1, 5_000, "the child");
      expect(box.hosts("web")).toHaveLength(1);
      expect(box.children(SLEEP)).toHaveLength(1);
      const st = await waitFor(async () => {
        const s = json(await box.run(["status", "web", "--json"]));
        return s.state === "running" && s;
      }, 5_000, "the winner to be running");
      expect(box.hosts("web")).toEqual([st.pid]);
      await box.cleanup();
    }
  }, 120_000);

  test("16 concurrent detached starts all exit 0 and leave one host and one child", async () => {
    const box = sandbox();
    const results = await Promise.all(Array.from({ length: 16 }, () => box.run(["start", "web", "--", ...SLEEP])));
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(results.filter((r) => /started/.test(r.stderr))).toHaveLength(1);
    expect(box.hosts("web")).toHaveLength(1);
    expect(box.children(SLEEP)).toHaveLength(1);
  }, 60_000);

  test("a second start of a healthy daemon is a no-op", async () => {
    const box = sandbox();
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    const before = box.metadata("web");
    const again = await box.run(["start", "web", "--", ...SLEEP]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already running");
    expect(box.metadata("web").pid).toBe(before.pid);
    expect(box.metadata("web").child.pid).toBe(before.child.pid);
  });
});

describe("reclaiming", () => {
  test("a frozen host is replaced within 1.5 s; it and its child are gone; resumed, it does not disturb the new owner", async () => {
    const box = sandbox();
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    const old = box.metadata("web");
    process.kill(old.pid, "SIGSTOP");
    box.track(old.pid);
    const r = await box.run(["start", "web", "--", ...SLEEP]);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThanOrEqual(1_500);
    const now = box.metadata("web");
    expect(now.pid).not.toBe(old.pid);
    expect(alive(old.pid)).toBe(false);
    expect(alive(old.child.pid)).toBe(false);
    // It was SIGKILLed, so resuming it is a no-op; a resumed live host is the next test's case.
    try {
      process.kill(old.pid, "SIGCONT");
    } catch {
      // already gone
    }
    expect(alive(old.pid)).toBe(false);
    expect(box.metadata("web").pid).toBe(now.pid);
    const st = json(await box.run(["status", "web", "--json"]));
    expect(st.state).toBe("running");
    expect(st.pid).toBe(now.pid);
    expect(box.hosts("web")).toEqual([now.pid]);
    expect(box.children(SLEEP)).toHaveLength(1);
  });

  test("a host whose socket was taken over while frozen exits without touching the new owner's files", async () => {
    const box = sandbox();
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    const old = box.metadata("web");
    process.kill(old.pid, "SIGSTOP");
    box.track(old.pid);
    // Remove the evidence that would let the new owner kill the frozen one.
    rmSync(`${box.runtimeDir}/web.json`);
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    const now = box.metadata("web");
    expect(now.pid).not.toBe(old.pid);
    expect(alive(old.pid)).toBe(true);
    process.kill(old.pid, "SIGCONT");
    await waitFor(() => !alive(old.pid), 5_000, "the resumed host to leave");
    await waitFor(() => !alive(old.child.pid), 5_000, "the resumed host's child to be stopped");
    expect(box.metadata("web")).toEqual(now);
    const st = json(await box.run(["status", "web", "--json"]));
    expect(st.state).toBe("running");
    expect(st.pid).toBe(now.pid);
  });

  test("host SIGKILLed: status says dead (1); the next start kills the verified orphan and leaves one host, one child", async () => {
    const box = sandbox();
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    const old = box.metadata("web");
    process.kill(old.pid, "SIGKILL");
    await waitFor(() => !alive(old.pid), 5_000, "host death");
    const st = await box.run(["status", "web", "--json"]);
    expect(st.code).toBe(1);
    expect(json(st).state).toBe("dead");
    expect(alive(old.child.pid)).toBe(true);
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    expect(alive(old.child.pid)).toBe(false);
    expect(box.hosts("web")).toHaveLength(1);
    expect(box.children(SLEEP)).toHaveLength(1);
  });

  test.each([
    ["deleted", (p: string) => rmSync(p)],
    ["truncated mid-JSON", (p: string) => writeFileSync(p, '{"schema":"daemonctl/metadata@1","name":"web","pi')],
  ])("metadata %s: start repairs it without a duplicate daemon", async (_label, damage) => {
    const box = sandbox();
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    const before = box.metadata("web");
    damage(`${box.runtimeDir}/web.json`);
    const r = await box.run(["start", "web", "--", ...SLEEP]);
    expect(r.code).toBe(0);
    const after = box.metadata("web");
    expect(after.pid).toBe(before.pid);
    expect(after.child.pid).toBe(before.child.pid);
    expect(box.hosts("web")).toEqual([before.pid]);
    expect(box.children(SLEEP)).toHaveLength(1);
  });

  test("forged metadata naming an unrelated live process: never reported running, never signalled", async () => {
    const box = sandbox();
    const victim = box.spawnOther("sleep", ["1001"]);
    const vpid = victim.pid!;
    await waitFor(() => alive(vpid), 2_000, "victim");
    const stat = (await Bun.file(`/proc/${vpid}/stat`).text()).split(") ")[1]!.split(" ");
    const bootId = (await Bun.file("/proc/sys/kernel/random/boot_id").text()).trim();
    // A forgery good enough to pass the pid-reuse check: correct pid and start identity.
    const identity = `${bootId}:${stat[19]}`;
    const forged = {
      schema: "daemonctl/metadata@1",
      name: "web",
      pid: vpid,
      pidIdentity: identity,
      socketPath: `${box.runtimeDir}/web.sock`,
      bindPath: `${box.runtimeDir}/.b${vpid}.1`,
      startedAt: new Date().toISOString(),
      identity: "sha256:forged",
      child: { pid: vpid, identity, invocation: "forged" },
      supervised: false,
      version: "0",
      protocolVersion: 1,
    };
    mkdirSync(box.runtimeDir, { mode: 0o700 });
    mkdirSync(box.stateDir, { mode: 0o700 });
    writeFileSync(`${box.runtimeDir}/web.json`, JSON.stringify(forged));
    writeFileSync(`${box.stateDir}/web.state.json`, JSON.stringify({ schema: "daemonctl/state@1", name: "web", intent: "running", lastState: "running", definition: null, identity: null, restarts: 0, lastExit: null, updatedAt: new Date().toISOString() }));
    const st = await box.run(["status", "web", "--json"]);
    expect(json(st).state).not.toBe("running");
    expect(json(st).pid).toBeNull();
    expect(st.code).not.toBe(0);
    expect((await box.run(["stop", "web"])).code).toBe(0);
    expect(alive(vpid)).toBe(true);
    expect((await box.run(["start", "web", "--", ...SLEEP])).code).toBe(0);
    expect(alive(vpid)).toBe(true);
    expect(box.children(SLEEP)).toHaveLength(1);
  });
});
