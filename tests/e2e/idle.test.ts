/**
 * Issue 19, idle supervisor: no polling reaper, and Bun's GC timer slowed by one re-exec whose
 * environment variable never reaches a daemon (docs/containers.md#pid-1-duties).
 */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { BIN, allPids, ppidOf, procState, sandboxes, sleepMs, waitFor } from "../helpers/harness.ts";

const sandbox = sandboxes();

const PRINT_ENV = `echo "[\${BUN_GC_TIMER_INTERVAL-unset}][\${DAEMONCTL_GC_TIMER-unset}]" > out; exec sleep 1000`;

function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

function mainThreadWakeups(pid: number): number {
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

describe("supervise, idle", () => {
  test("runs with Bun's GC timer slowed, and its daemon never sees the variable", async () => {
    const box = sandbox();
    const sup = box.spawn(["supervise", "--", "sh", "-c", PRINT_ENV]);
    const out = await waitFor(() => readFileOrNull(box.path("out")), 5_000, "the child's environment");
    expect(out.trim()).toBe("[unset][unset]");
    // The supervisor re-executed itself with the variable (its initial environment shows it).
    expect(environOf(sup.pid)).toContain("BUN_GC_TIMER_INTERVAL=30000");
  });

  test("an interval the operator set is left alone and passed on", async () => {
    const box = sandbox();
    box.spawn(["supervise", "--", "sh", "-c", PRINT_ENV], { env: { BUN_GC_TIMER_INTERVAL: "5000" } });
    const out = await waitFor(() => readFileOrNull(box.path("out")), 5_000, "the child's environment");
    expect(out.trim()).toBe("[5000][unset]");
  });

  test("idle, the main thread barely wakes (no once-a-second reaper or GC timer)", async () => {
    const box = sandbox();
    const sup = box.spawn(["supervise", "--", "sleep", "1000"]);
    await waitFor(() => box.children(["sleep", "1000"]).length === 1, 5_000, "child up");
    await sleepMs(2_500); // start-up settles, and the post-boot GC
    const before = mainThreadWakeups(sup.pid);
    await sleepMs(5_000);
    // Before issue 19: ~2.7 a second (13 in 5 s). Now none but the odd runtime timer.
    expect(mainThreadWakeups(sup.pid) - before).toBeLessThan(5);
  }, 15_000);

  test("a standalone host starts with the slowed timer (no re-exec) and its daemon never sees it", async () => {
    const box = sandbox();
    expect((await box.run(["start", "h", "--cwd", box.dir, "--", "sh", "-c", PRINT_ENV])).code).toBe(0);
    const out = await waitFor(() => readFileOrNull(box.path("out")), 5_000, "the child's environment");
    expect(out.trim()).toBe("[unset][unset]");
    const host = box.hosts("h")[0]!;
    expect(environOf(host)).toContain("BUN_GC_TIMER_INTERVAL=30000");
    await sleepMs(2_500);
    const before = mainThreadWakeups(host);
    await sleepMs(5_000);
    expect(mainThreadWakeups(host) - before).toBeLessThan(5);
  }, 15_000);

  test("a zombie child it inherits at exec, before it listens for SIGCHLD, is reaped at start", async () => {
    const box = sandbox();
    // The subshell exits before daemonctl has any handler: its SIGCHLD is lost for good.
    const pid = spawn("sh", ["-c", `(exit 0) & exec ${BIN} supervise -- sleep 1000`], { cwd: box.dir, env: box.env(), stdio: "ignore" }).pid!;
    box.track(pid);
    await waitFor(() => box.children(["sleep", "1000"]).length === 1, 5_000, "child up");
    const zombies = () => allPids().filter((p) => ppidOf(p) === pid && procState(p) === "Z");
    await waitFor(() => zombies().length === 0, 1_500, "the inherited zombie reaped");
  });
});

function readFileOrNull(path: string): string | null {
  try {
    const s = readFileSync(path, "utf8");
    return s.endsWith("\n") ? s : null;
  } catch {
    return null;
  }
}
