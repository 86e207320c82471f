/**
 * dist/daemonctl in real OCI containers (runc): PID 1 with a config, `docker exec` commands as
 * root and as an unprivileged user, `docker stop`, a recreated container on the same state
 * volume, a read-only root filesystem, and the tini-mode exit codes.
 *
 * Bundles and runc settings: tests/helpers/runc.ts. Without runc (or root) every test skips and
 * the reason is printed.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor, type RunResult } from "../helpers/harness.ts";
import { APP_GID, Bundle, bundles, makeVolume, NOBODY, runcProblem, type BundleOptions } from "../helpers/runc.ts";

const problem = await runcProblem();
if (problem) console.log(`runc.test.ts: skipping every test: ${problem}`);
const it = problem ? test.skip : test;

const container = bundles();
const CONFIG_ENV = { DAEMONCTL_CONFIG: "/etc/daemonctl.json" };
const SLEEP = ["sleep", "300"];
/** A `docker exec -u nobody --group-add app` user. */
const APP_USER = { uid: NOBODY, gid: NOBODY, additionalGids: [APP_GID] };
const NOBODY_USER = { uid: NOBODY, gid: NOBODY };

function parse(r: RunResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** Host side of the volume: S/NAME.state.json as written inside the container. */
function volumeState(volume: string, name: string): any {
  try {
    return JSON.parse(readFileSync(join(volume, `${name}.state.json`), "utf8"));
  } catch {
    return null;
  }
}

/** `daemonctl supervise` as PID 1 with /etc/daemonctl.json, once `status NAMES` says all run. */
async function supervisor(config: unknown, names: string[], o: Partial<BundleOptions> = {}): Promise<Bundle> {
  const b = container({ args: ["daemonctl", "supervise"], env: CONFIG_ENV, config, ...o });
  const proc = b.run();
  await waitFor(async () => {
    if (proc.child.exitCode !== null) throw new Error(`container exited ${proc.child.exitCode}\nstdout:${proc.stdout}\nstderr:${proc.stderr}`);
    return (await b.daemonctl(["status", ...names]).catch(() => null))?.code === 0;
  }, 10_000, `${names.join(", ")} running in ${b.id}`, 50);
  return b;
}

/** `runc kill ID TERM` (docker stop), then the container's exit code and how long it took. */
async function dockerStop(b: Bundle, timeoutMs = 15_000): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  const k = await b.kill("TERM");
  expect(k.code).toBe(0);
  const r = await b.proc!.waitExit(timeoutMs);
  return { code: r.code, ms: Date.now() - t0 };
}

/** The tini-mode container's exit code (the foreground `runc run`'s status). */
async function exitCodeOf(argv: string[], before?: (b: Bundle) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const b = container({ args: ["daemonctl", "supervise", "--", ...argv] });
  const proc = b.run();
  if (before) await before(b);
  const r = await proc.waitExit(10_000);
  return { code: r.code, stdout: proc.stdout, stderr: proc.stderr };
}

function timed(label: string, ms: number): void {
  console.log(`runc.test.ts: ${label}: ${ms} ms`);
}

describe("supervise as a container's PID 1 (runc)", () => {
  it("keeps state on the /var/lib/daemonctl volume with HOME=/root and no --state-dir", async () => {
    const b = await supervisor({ daemons: { a: { command: SLEEP }, b: { command: ["sh", "-c", "echo hello; exec sleep 300"], ready: "delay:200ms" } } }, ["a", "b"]);
    const a = parse(await b.daemonctl(["status", "a", "--json"]));
    expect(a).toMatchObject({ state: "running", intent: "running", pid: 1, socketPath: "/run/daemonctl/a.sock", logPath: "/var/lib/daemonctl/logs/a.log" });
    for (const name of ["a", "b"]) expect(volumeState(b.volume, name)).toMatchObject({ intent: "running" });
    // A log file appears with the daemon's first output: b's "hello".
    expect(readFileSync(join(b.volume, "logs", "b.log"), "utf8")).toContain("hello");
    // Nothing went to HOME (/root): the rootfs dir behind it is still empty.
    expect(readdirSync(join(b.dir, "rootfs", "root"))).toEqual([]);
    expect(b.proc!.stdout).toContain("hello");
  });

  it("serves status --json, stop and start from `runc exec` as root", async () => {
    const b = await supervisor({ daemons: { a: { command: SLEEP }, b: { command: SLEEP } } }, ["a", "b"]);
    const before = parse(await b.daemonctl(["status", "a", "--json"]));
    expect(before).toMatchObject({ state: "running", ready: true, pid: 1 });

    const stop = await b.daemonctl(["stop", "a"]);
    expect({ code: stop.code, stderr: stop.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("a stopped") });
    const stopped = await b.daemonctl(["status", "a", "--json"]);
    expect(stopped.code).toBe(3);
    expect(parse(stopped)).toMatchObject({ state: "stopped", intent: "stopped", pid: 1 });
    expect(volumeState(b.volume, "a")).toMatchObject({ intent: "stopped" });
    expect((await b.daemonctl(["status", "b"])).code).toBe(0);

    const start = await b.daemonctl(["start", "a"]);
    expect(start.code).toBe(0);
    const after = parse(await b.daemonctl(["status", "a", "--json"]));
    expect(after).toMatchObject({ state: "running", intent: "running", pid: 1 });
    expect(after.child.pid).not.toBe(before.child.pid);
    expect(volumeState(b.volume, "a")).toMatchObject({ intent: "running" });
  });

  it("exec `start` of a stopped daemon says it started it, not that it was already running", async () => {
    const b = await supervisor({ daemons: { a: { command: SLEEP } } }, ["a"]);
    expect((await b.daemonctl(["stop", "a"])).code).toBe(0);
    const start = await b.daemonctl(["start", "a"]);
    expect(start.code).toBe(0);
    expect(start.stderr).not.toContain("already running");
    expect(start.stderr).toContain("a started");
  });

  it("serves status, stop and start to an exec user in socketGroup (directories named in the config)", async () => {
    const config = { socketGroup: "app", runtimeDir: "/run/daemonctl", stateDir: "/var/lib/daemonctl", daemons: { a: { command: SLEEP }, b: { command: SLEEP } } };
    const b = await supervisor(config, ["a", "b"]);
    const status = await b.daemonctl(["status", "a", "--json"], { user: APP_USER });
    expect(status.code).toBe(0);
    const before = parse(status);
    expect(before).toMatchObject({ state: "running", pid: 1 });

    const stop = await b.daemonctl(["stop", "a"], { user: APP_USER });
    expect({ code: stop.code, stderr: stop.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("a stopped") });
    expect(parse(await b.daemonctl(["status", "a", "--json"], { user: APP_USER }))).toMatchObject({ state: "stopped", intent: "stopped" });
    expect(volumeState(b.volume, "a")).toMatchObject({ intent: "stopped" });

    const start = await b.daemonctl(["start", "a"], { user: APP_USER });
    expect({ code: start.code, stderr: start.stderr }).toMatchObject({ code: 0 });
    const after = parse(await b.daemonctl(["status", "a", "--json"], { user: APP_USER }));
    expect(after).toMatchObject({ state: "running", intent: "running" });
    expect(after.child.pid).not.toBe(before.child.pid);
  });

  // As uid 65534 with only the container's environment (HOME=/root, PATH, DAEMONCTL_CONFIG),
  // daemonctl once looked in /tmp/daemonctl-65534 and reported a running daemon as stopped.
  it("serves an exec user in socketGroup with only the container's environment (docs/containers.md)", async () => {
    const b = await supervisor({ socketGroup: "app", daemons: { a: { command: SLEEP } } }, ["a"]);
    const status = await b.daemonctl(["status", "a", "--json"], { user: APP_USER });
    expect(status.code).toBe(0);
    expect(parse(status)).toMatchObject({ state: "running", pid: 1 });
    const stop = await b.daemonctl(["stop", "a"], { user: APP_USER });
    expect(stop.code).toBe(0);
    expect(stop.stderr).toContain("a stopped");
    expect(parse(await b.daemonctl(["status", "a", "--json"], { user: APP_USER }))).toMatchObject({ state: "stopped", intent: "stopped" });
  });

  it("without socketGroup, tells an unprivileged exec user that permission is denied (status, stop)", async () => {
    const config = { runtimeDir: "/run/daemonctl", stateDir: "/var/lib/daemonctl", daemons: { a: { command: SLEEP } } };
    const b = await supervisor(config, ["a"]);
    const status = await b.daemonctl(["status", "a", "--json"], { user: NOBODY_USER });
    expect(status.code).toBe(4);
    expect(parse(status)).toMatchObject({ state: "unknown", error: { code: "permission-denied" } });
    const text = await b.daemonctl(["status", "a"], { user: NOBODY_USER });
    expect(text.stdout).toContain("permission denied");

    const stop = await b.daemonctl(["stop", "a"], { user: NOBODY_USER });
    expect(stop.code).not.toBe(0);
    expect(stop.stderr).toContain("permission denied");
    expect(stop.stderr).not.toMatch(/\n\s+at /);
    // Still running, as root sees it.
    expect((await b.daemonctl(["status", "a"])).code).toBe(0);
  });

  // `start` here once printed a raw EACCES stack.
  it("without socketGroup, `start` as an unprivileged exec user fails with a clear permission message", async () => {
    const config = { runtimeDir: "/run/daemonctl", stateDir: "/var/lib/daemonctl", daemons: { a: { command: SLEEP } } };
    const b = await supervisor(config, ["a"]);
    const start = await b.daemonctl(["start", "a"], { user: NOBODY_USER });
    expect(start.code).not.toBe(0);
    expect(start.stderr).toContain("permission denied");
    expect(start.stderr).not.toMatch(/\n\s+at /);
  });

  it("on `runc kill TERM` (docker stop) stops its daemons and exits 0 well within the grace period", async () => {
    const b = await supervisor({ daemons: { a: { command: SLEEP }, b: { command: ["sh", "-c", "exec sleep 300"] } } }, ["a", "b"]);
    const { code, ms } = await dockerStop(b);
    timed("docker stop of 2 polite daemons (grace 8 s)", ms);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5_000);
    expect(b.proc!.stderr + b.proc!.stdout).toContain("SIGTERM: stopping 2 daemons");
    // An unplanned stop keeps intent `running` (the daemons come back on the next start).
    for (const name of ["a", "b"]) expect(volumeState(b.volume, name)).toMatchObject({ intent: "running" });
  });

  it("on `runc kill TERM` SIGKILLs a daemon that ignores TERM after the grace period, still exit 0", async () => {
    const stubborn = ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"];
    const b = await supervisor({ grace: "1s", daemons: { a: { command: SLEEP }, stubborn: { command: stubborn } } }, ["a", "stubborn"]);
    const { code, ms } = await dockerStop(b);
    timed("docker stop with a TERM-ignoring daemon (grace 1 s)", ms);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(6_000);
  });

  it("a recreated container on the same volume keeps the operator's stop; the others come back", async () => {
    const volume = makeVolume();
    try {
      const config = { daemons: { a: { command: SLEEP }, b: { command: SLEEP }, c: { command: SLEEP } } };
      const first = await supervisor(config, ["a", "b", "c"], { volume });
      expect((await first.daemonctl(["stop", "a"])).code).toBe(0);
      expect((await dockerStop(first)).code).toBe(0);
      await first.cleanup();

      const second = await supervisor(config, ["b", "c"], { volume });
      expect(second.id).not.toBe(first.id);
      await waitFor(() => /a: (starting|left down|not started)/.test(second.proc!.stderr + second.proc!.stdout), 5_000, "the boot line for a");
      expect(second.proc!.stderr + second.proc!.stdout).toContain("a: left down (stopped by an operator)");
      const a = await second.daemonctl(["status", "a", "--json"]);
      expect(a.code).toBe(3);
      expect(parse(a)).toMatchObject({ state: "stopped", intent: "stopped", pid: 1 });
      expect(parse(a).child?.pid ?? null).toBeNull();
      for (const name of ["b", "c"]) expect(parse(await second.daemonctl(["status", name, "--json"]))).toMatchObject({ state: "running", intent: "running" });
    } finally {
      rmSync(volume, { recursive: true, force: true });
    }
  });

  it("works on a read-only root filesystem (only /run, /tmp and the volume writable)", async () => {
    const b = await supervisor({ daemons: { a: { command: SLEEP }, b: { command: ["sh", "-c", "echo hi; exec sleep 300"], ready: "log:^hi$" } } }, ["a", "b"], { readonlyRoot: true });
    const probe = await b.exec(["sh", "-c", "touch /root/x 2>&1; echo rc=$?"]);
    expect(probe.stdout).toContain("Read-only file system");
    expect(existsSync(join(b.volume, "a.state.json"))).toBe(true);
    expect((await b.daemonctl(["stop", "a"])).code).toBe(0);
    expect(volumeState(b.volume, "a")).toMatchObject({ intent: "stopped" });
    expect((await b.daemonctl(["start", "a"])).code).toBe(0);
    expect((await b.daemonctl(["status", "a", "b"])).code).toBe(0);
    expect((await dockerStop(b)).code).toBe(0);
  });
});

describe("supervise -- CMD (tini mode) exit codes in runc", () => {
  it("exits with the child's code (3)", async () => {
    expect((await exitCodeOf(["sh", "-c", "exit 3"])).code).toBe(3);
  });

  it("exits 137 when SIGKILL killed the child", async () => {
    expect((await exitCodeOf(["sh", "-c", "kill -KILL $$"])).code).toBe(137);
  });

  it("exits 143 on `runc kill TERM` when the child dies of the forwarded TERM (docs/migrating.md: 128+N)", async () => {
    const t0 = Date.now();
    const r = await exitCodeOf(["sh", "-c", "echo ready; exec sleep 300"], async (b) => {
      await waitFor(() => b.proc!.stdout.includes("ready"), 10_000, "the child to start");
      expect((await b.kill("TERM")).code).toBe(0);
    });
    timed("tini mode: start, TERM, exit", Date.now() - t0);
    expect(r.code).toBe(143);
  });

  it("exits 0 on `runc kill TERM` when the child handles TERM and exits 0", async () => {
    const r = await exitCodeOf(["sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"], async (b) => {
      await waitFor(() => b.proc!.stdout.includes("ready"), 10_000, "the child to start");
      expect((await b.kill("TERM")).code).toBe(0);
    });
    expect(r.code).toBe(0);
  });

  it("exits 127 when the command does not exist", async () => {
    const missing = await exitCodeOf(["/nonexistent/command"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("/nonexistent/command");
    expect((await exitCodeOf(["no-such-command-anywhere"])).code).toBe(127);
  });
});

describe("lifecycle features in a real container", () => {
  it("a once oneshot before its server, reload from docker exec, and a recreated container that does not rerun the task", async () => {
    const volume = makeVolume();
    try {
      const migrate = { type: "oneshot", once: true, command: ["sh", "-c", "echo x >> /var/lib/daemonctl/migrations"] };
      const config = { daemons: { migrate, web: { dependsOn: ["migrate"], command: SLEEP } } };
      const first = await supervisor(config, ["web"], { volume });
      const st = await first.daemonctl(["status", "migrate", "--json"]);
      expect(st.code).toBe(0);
      expect(parse(st).state).toBe("done");

      // docker exec … daemonctl reload after the config was edited (the image's /etc is the bundle's).
      const next = { daemons: { ...config.daemons, extra: { command: SLEEP } } };
      writeFileSync(join(first.dir, "etc", "daemonctl.json"), JSON.stringify(next));
      const r = await first.daemonctl(["reload", "--json"]);
      expect(r.code).toBe(0);
      expect(parse(r)).toMatchObject({ added: ["extra"], removed: [], changed: [], unchanged: ["migrate", "web"] });
      await waitFor(async () => (await first.daemonctl(["status", "extra"])).code === 0, 10_000, "extra running");
      expect((await dockerStop(first)).code).toBe(0);
      await first.cleanup();

      const second = await supervisor(next, ["web", "extra"], { volume });
      expect(parse(await second.daemonctl(["status", "migrate", "--json"])).state).toBe("done");
      expect(readFileSync(join(volume, "migrations"), "utf8").trim().split("\n")).toHaveLength(1);
      expect((await dockerStop(second)).code).toBe(0);
    } finally {
      rmSync(volume, { recursive: true, force: true });
    }
  }, 60_000);
});
