/**
 * Issue 16 items 4, 5 and 8, driven through the binary: commands that cannot be executed fail at
 * once; delete, signal, start/restart --all, logs of every daemon, events --no-follow; one
 * validation on every path.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { json, sandboxes, waitFor } from "../helpers/harness.ts";

const sandbox = sandboxes();

describe("a command that cannot be executed", () => {
  test.each([
    ["missing", ["nosuch-daemonctl-cmd"], "cannot execute nosuch-daemonctl-cmd: command not found", 127],
    ["not executable", null, "permission denied", 126],
  ] as const)("%s: start fails at once, the daemon is failed with no restart loop", async (_what, argv, message, code) => {
    const box = sandbox();
    const cmd = argv ?? [box.path("plain-file")];
    if (!argv) writeFileSync(cmd[0]!, "#!/bin/sh\n", { mode: 0o644 });
    const r = await box.run(["start", "x", "--", ...cmd]);
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(1_000);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(`cannot execute ${cmd[0]}`);
    const s = json(await box.run(["status", "x", "--json"]));
    expect(s.state).toBe("failed");
    expect(s.child?.lastExit?.code ?? box.state("x")?.lastExit?.code).toBe(code);
    expect(s.child?.restarts ?? 0).toBe(0);
  });

  test("inside supervise: failed at once, the other daemons run on", async () => {
    const box = sandbox();
    writeFileSync(box.path("d.json"), JSON.stringify({ daemons: { bad: { command: ["nosuch-daemonctl-cmd"] }, good: { command: ["sleep", "1000"] } } }));
    const sup = box.spawn(["supervise", "--config", box.path("d.json")]);
    await waitFor(async () => json(await box.run(["status", "bad", "--json"]))?.state === "failed", 5_000, "bad to be failed");
    await waitFor(async () => json(await box.run(["status", "good", "--json"]))?.state === "running", 5_000, "good to run");
    const s = json(await box.run(["status", "bad", "--json"]));
    expect(s.error).toEqual({ code: "cannot-execute", message: "cannot execute nosuch-daemonctl-cmd: command not found" });
    expect(s.child.restarts).toBe(0);
    expect(sup.stderr).not.toContain("backoff");
  });
});
