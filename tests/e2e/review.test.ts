/**
 * Faults found in review of the reclaim and connection work: a daemon started from inside
 * another, a stop racing a start, a forged listener, repeated subscriptions, an unanswering socket.
 */
import { expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { BIN, alive, json, sandboxes, waitFor } from "../helpers/harness.ts";

const sandbox = sandboxes();

function identityOf(pid: number): string {
  const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return `${boot}:${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}`;
}

test("stopping a daemon whose host died spares a daemon started from inside it", async () => {
  const box = sandbox();
  const script = `${BIN} start b -- sleep 1001 >/dev/null 2>&1; exec sleep 1000`;
  expect((await box.run(["start", "a", "--", "sh", "-c", script])).code).toBe(0);
  await waitFor(async () => (await box.run(["status", "b"])).code === 0, 10_000, "b running");
  const b = box.metadata("b");
  process.kill(box.metadata("a").pid, "SIGKILL");
  await waitFor(() => !alive(box.metadata("a").pid), 5_000, "a's host to die");
  expect((await box.run(["stop", "a"])).code).toBe(0);
  expect(alive(b.pid)).toBe(true);
  expect(alive(b.child.pid)).toBe(true);
  expect((await box.run(["status", "b"])).code).toBe(0);
});

test("a stop that races a start mid-spawn stops what the start brings up", async () => {
  const box = sandbox();
  for (let trial = 0; trial < 5; trial++) {
    const start = box.run(["start", "x", "--ready", "delay:500ms", "--", "sleep", "1000"]);
    await waitFor(() => {
      try {
        return readFileSync(`${box.runtimeDir}/x.json.lock`, "utf8").includes('"pid"');
      } catch {
        return false;
      }
    }, 10_000, "the start to hold the spawn lock");
    const stop = await box.run(["stop", "x"]);
    expect(stop.code).toBe(0);
    await start;
    const st = json(await box.run(["status", "x", "--json"]));
    expect({ trial, state: st.state, intent: st.intent }).toEqual({ trial, state: "stopped", intent: "stopped" });
    rmSync(`${box.runtimeDir}/x.json.lock`, { force: true });
  }
});

test("a forged listener and metadata never get an unrelated process signalled", async () => {
  const box = sandbox();
  expect((await box.run(["start", "real", "--", "sleep", "1000"])).code).toBe(0);
  const real = json(await box.run(["status", "real", "--json"]));
  const victim = box.spawnOther("sleep", ["1002"]);
  const pid = victim.pid!;
  await waitFor(() => alive(pid), 5_000, "the victim");
  const socketPath = `${box.runtimeDir}/v.sock`;
  const server: Server = createServer((c) => {
    c.on("data", (d) => {
      for (const line of d.toString().split("\n").filter(Boolean)) {
        const req = JSON.parse(line);
        const answer = req.method === "status"
          ? { id: req.id, ok: true, result: { ...real, name: "v", socketPath, pid, pidIdentity: identityOf(pid) } }
          : { id: req.id, ok: false, error: { code: "nope", message: "not today" } };
        c.write(`${JSON.stringify(answer)}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  try {
    const meta = { ...box.metadata("real"), name: "v", socketPath, pid, pidIdentity: identityOf(pid), supervised: false };
    writeFileSync(`${box.runtimeDir}/v.json`, JSON.stringify(meta));
    const r = await box.run(["stop", "v", "--timeout", "1s"]);
    expect(r.code).toBe(1);
    expect(alive(pid)).toBe(true);
    expect((await box.run(["status", "real"])).code).toBe(0);
  } finally {
    server.close();
  }
});

test("one event subscription per connection", async () => {
  const box = sandbox();
  expect((await box.run(["start", "e", "--", "sleep", "1000"])).code).toBe(0);
  const sock = createConnection(`${box.runtimeDir}/e.sock`);
  let text = "";
  sock.on("data", (d) => (text += d.toString()));
  sock.write(`${JSON.stringify({ id: 1, method: "events", protocol: 1 })}\n${JSON.stringify({ id: 2, method: "events", protocol: 1 })}\n`);
  try {
    await waitFor(() => text.includes('"id":2'), 5_000, "the second answer");
    const second = text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((m) => m.id === 2);
    expect(second).toMatchObject({ ok: false, error: { code: "already-subscribed" } });
  } finally {
    sock.destroy();
  }
});

test("stop on a socket held by a frozen host it cannot identify fails and signals nothing", async () => {
  const box = sandbox();
  expect((await box.run(["start", "h", "--", "sleep", "1000"])).code).toBe(0);
  const meta = box.metadata("h");
  process.kill(meta.pid, "SIGSTOP");
  try {
    rmSync(`${box.runtimeDir}/h.json`);
    const r = await box.run(["stop", "h"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not answer");
    expect(alive(meta.child.pid)).toBe(true);
  } finally {
    process.kill(meta.pid, "SIGCONT");
  }
});

test("a lock file that cannot be opened is an error with a fix, not a stack", async () => {
  const box = sandbox();
  expect((await box.run(["start", "k", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["stop", "k"])).code).toBe(0);
  rmSync(`${box.runtimeDir}/k.json.lock`, { force: true });
  const { mkdirSync } = await import("node:fs");
  mkdirSync(`${box.runtimeDir}/k.json.lock`);
  const r = await box.run(["start", "k", "--", "sleep", "1000"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`cannot open lock file ${box.runtimeDir}/k.json.lock`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});
