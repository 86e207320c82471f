/**
 * What users meet in the field: a full disk, a `docker exec` as another user, a stop racing a
 * start, a supervised daemon started again, a `docker stop` long after a crash.
 */
import { expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, openSync, readFileSync, writeSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { alive, isRoot, json, sandboxes, setprivProblem, waitFor } from "../helpers/harness.ts";

const sandbox = sandboxes();

/** Fills the filesystem holding `dir` until ENOSPC. */
function fill(dir: string): string {
  const path = `${dir}/filler`;
  const fd = openSync(path, "w");
  const block = new Uint8Array(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(fd);
  }
  return path;
}

test("disk full: stop records intent first; when it cannot, it stops nothing and says how to fix it", async () => {
  if (!isRoot) {
    console.log("skip: mounting a tiny tmpfs as the state directory needs root");
    return;
  }
  const box = sandbox();
  mkdirSync(box.stateDir, { recursive: true, mode: 0o700 });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", box.stateDir]);
  } catch (e) {
    console.log(`skip: cannot mount a tmpfs here: ${(e as Error).message}`);
    return;
  }
  try {
    expect((await box.run(["start", "x", "--", "sleep", "1000"])).code).toBe(0);
    const child = box.metadata("x").child.pid;
    const filler = fill(box.stateDir);

    const r = await box.run(["stop", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nothing was stopped");
    expect(r.stderr).toContain(box.stateDir);
    expect(r.stderr).toMatch(/ENOSPC|no space/i);
    expect(alive(child)).toBe(true);
    expect(json(await box.run(["status", "x", "--json"])).state).toBe("running");

    rmSync(filler);
    expect((await box.run(["stop", "x"])).code).toBe(0);
    await waitFor(() => !alive(child), 5_000, "the child to stop");
    expect(box.state("x").intent).toBe("stopped");
    const rec = await box.run(["reconcile", "--json"]);
    expect(rec.code).toBe(0);
    expect(json(await box.run(["status", "x", "--json"])).state).toBe("stopped");
  } finally {
    // Lazy: the sandbox's processes may still hold the log open; cleanup kills them after.
    execFileSync("umount", ["-l", box.stateDir]);
  }
});

test("uid 65534 against a root daemon: every command says permission denied and how to fix it", async () => {
  const skip = await setprivProblem();
  if (skip) return console.log(`skip: ${skip}`);
  const box = sandbox();
  expect((await box.run(["start", "w", "--", "sleep", "1000"])).code).toBe(0);
  const as = { unprivileged: true };
  const cases: Array<[string[], number]> = [
    [["start", "w", "--", "sleep", "1000"], 1],
    [["restart", "w"], 1],
    [["stop", "w"], 1],
    [["logs", "w"], 1],
    [["list"], 1],
    [["status", "w"], 4],
    [["status"], 4],
  ];
  for (const [args, code] of cases) {
    const r = await box.run(args, as);
    const said = r.stdout + r.stderr; // status prints its "unknown" line on stdout
    expect({ args, code: r.code, said }).toEqual({
      args,
      code,
      said: expect.stringContaining(`permission denied: runtime directory ${box.runtimeDir} is owned by root`),
    });
    expect(said).toContain("socketGroup");
    expect(said).not.toContain("EACCES");
  }
  expect(json(await box.run(["status", "w", "--json"])).state).toBe("running");
});

test("a start that loses a race with stop says it was stopped, not that the host exited 0", async () => {
  const box = sandbox();
  const start = box.run(["start", "x", "--ready", "delay:3s", "--", "sleep", "1000"]);
  await waitFor(() => box.metadata("x")?.child?.pid, 10_000, "x's child");
  const stop = await box.run(["stop", "x"]);
  expect(stop.code).toBe(0);
  const r = await start;
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("x was stopped while it was starting");
  expect(r.stderr).not.toContain("exited with code 0");
});

test("supervise: start on a stopped daemon says started; a clean TERM after an old crash exits 0", async () => {
  const box = sandbox();
  const config = box.path("daemonctl.json");
  writeFileSync(config, JSON.stringify({ daemons: { a: { command: ["sleep", "1000"], backoff: { initial: "50ms" } }, b: { command: ["sleep", "1001"] } } }));
  const sup = box.spawn(["supervise", "--config", config]);
  const childOf = async (name: string) => json(await box.run(["status", name, "--json"])).child?.pid as number | undefined;
  const first = await waitFor(() => childOf("a"), 10_000, "a running");
  await waitFor(() => childOf("b"), 10_000, "b running");

  // An old crash: SIGKILL, then the restart repairs it.
  process.kill(first, "SIGKILL");
  await waitFor(async () => {
    const pid = await childOf("a");
    return pid && pid !== first && (await box.run(["status", "a"])).code === 0;
  }, 10_000, "a restarted");

  expect((await box.run(["stop", "b"])).code).toBe(0);
  const started = await box.run(["start", "b", "--config", config]);
  expect(started.code).toBe(0);
  expect(started.stderr).toContain("b started");
  expect(started.stderr).not.toContain("already running");
  const again = await box.run(["start", "b", "--config", config]);
  expect(again.stderr).toContain("b already running");

  sup.kill("SIGTERM");
  expect((await sup.waitExit(15_000)).code).toBe(0);
});

test("a full runtime directory: the host spawns no child it could not record (nothing unfindable)", async () => {
  if (!isRoot) {
    console.log("skip: mounting a tiny tmpfs as the runtime directory needs root");
    return;
  }
  const box = sandbox();
  mkdirSync(box.runtimeDir, { recursive: true, mode: 0o700 });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", box.runtimeDir]);
  } catch (e) {
    console.log(`skip: cannot mount a tmpfs here: ${(e as Error).message}`);
    return;
  }
  try {
    const argv = ["sleep", "1003"];
    expect((await box.run(["start", "x", "--restart", "always", "--", ...argv])).code).toBe(0);
    const first = box.metadata("x").child.pid;
    const filler = fill(box.runtimeDir);
    process.kill(first, "SIGKILL");
    // The restart finds it cannot record the new child's invocation, and does not spawn it.
    await waitFor(() => readLog(box.stateDir).includes("not starting it"), 10_000, "the refused spawn");
    expect(box.children(argv)).toEqual([]);
    rmSync(filler);
    await waitFor(() => box.children(argv).length === 1, 15_000, "the child back once there is space");
    expect((await box.run(["stop", "x"])).code).toBe(0);
    expect(box.children(argv)).toEqual([]);
  } finally {
    execFileSync("umount", ["-l", box.runtimeDir]);
  }
});

function readLog(stateDir: string): string {
  try {
    return readFileSync(`${stateDir}/logs/x.log`, "utf8");
  } catch {
    return "";
  }
}
