/** Control protocol (docs/protocol.md): framing, methods, limits, abusive clients. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createConnection, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { Sandbox, json, waitFor } from "../helpers/harness.ts";

let box: Sandbox;
let sock: string;
beforeAll(async () => {
  box = new Sandbox();
  const got = box.path("got");
  const r = await box.run(["start", "web", "--", "sh", "-c", `trap 'echo USR1 >> ${got}' USR1; while :; do sleep 0.05; done`]);
  expect(r.code).toBe(0);
  sock = `${box.runtimeDir}/web.sock`;
});
afterAll(() => box.cleanup());

/** A raw connection that collects response lines. */
function connect(): Promise<{ s: Socket; lines: string[]; next(): Promise<any>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = createConnection(sock);
    const lines: string[] = [];
    let buf = "";
    const waiters: Array<(v: any) => void> = [];
    const closed = new Promise<void>((r) => s.once("close", () => r()));
    s.on("data", (d) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = waiters.shift();
        if (w) w(JSON.parse(line));
        else lines.push(line);
      }
    });
    s.once("error", () => {});
    s.once("connect", () =>
      resolve({
        s,
        lines,
        closed,
        next: () => (lines.length ? Promise.resolve(JSON.parse(lines.shift()!)) : new Promise((r) => waiters.push(r))),
      }),
    );
    s.once("error", reject);
  });
}

async function statusOk(): Promise<boolean> {
  const r = await box.run(["status", "web", "--json"]);
  return r.code === 0 && json(r).state === "running";
}

test("several requests on one connection are answered in order", async () => {
  const c = await connect();
  c.s.write('{"id":1,"method":"status","protocol":1}\n{"id":"two","method":"status","protocol":1}\n');
  const a = await c.next();
  const b = await c.next();
  expect([a.id, a.ok, a.result.state]).toEqual([1, true, "running"]);
  expect([b.id, b.ok]).toEqual(["two", true]);
  c.s.destroy();
});

test("malformed JSON, bad requests and unknown methods get errors; the connection stays usable", async () => {
  const c = await connect();
  c.s.write("this is not json\n");
  expect((await c.next()).error.code).toBe("bad-json");
  c.s.write('{"id":2,"method":"status"}\n');
  expect(await c.next()).toMatchObject({ id: 2, ok: false, error: { code: "bad-request" } });
  c.s.write('{"id":3,"method":"launch-missiles","protocol":1}\n');
  expect(await c.next()).toMatchObject({ id: 3, ok: false, error: { code: "unknown-method" } });
  c.s.write('{"id":4,"method":"signal","params":{"signal":"NOPE"},"protocol":1}\n');
  expect(await c.next()).toMatchObject({ id: 4, ok: false, error: { code: "bad-params" } });
  c.s.write('{"id":5,"method":"status","protocol":1}\n');
  expect(await c.next()).toMatchObject({ id: 5, ok: true });
  c.s.destroy();
});

test("an oversized line is refused and cut off; the host keeps answering others", async () => {
  const c = await connect();
  c.s.write("x".repeat(1024 * 1024 + 10));
  const reply = await c.next();
  expect(reply.error.code).toBe("line-too-long");
  await c.closed;
  expect(await statusOk()).toBe(true);
});

test("beyond 256 connections the least recently active idle ones are evicted, told why; newcomers are served", async () => {
  const conns: Awaited<ReturnType<typeof connect>>[] = [];
  for (let i = 0; i < 256; i++) conns.push(await connect());
  // The oldest connection speaks up, so the next oldest are the least recently active.
  conns[0]!.s.write('{"id":1,"method":"status","protocol":1}\n');
  expect(await conns[0]!.next()).toMatchObject({ id: 1, ok: true });
  for (let i = 0; i < 4; i++) conns.push(await connect());
  await waitFor(() => conns.slice(1, 5).every((c) => c.lines.length > 0), 5_000, "evictions");
  for (const c of conns.slice(1, 5)) expect(JSON.parse(c.lines[0]!)).toMatchObject({ id: null, ok: false, error: { code: "evicted" } });
  await Promise.all(conns.slice(1, 5).map((c) => c.closed));
  expect(conns.filter((c) => c.lines.length > 0)).toHaveLength(4);
  const last = conns.at(-1)!;
  last.s.write('{"id":2,"method":"status","protocol":1}\n');
  expect(await last.next()).toMatchObject({ id: 2, ok: true });
  expect(await statusOk()).toBe(true);
  for (const c of conns) c.s.destroy();
});

test("a slow client that never finishes its line does not block others", async () => {
  const slow = await connect();
  slow.s.write('{"id":1,"method":"sta');
  expect(await statusOk()).toBe(true);
  slow.s.destroy();
});

test("signal forwards to the child; events streams lifecycle events", async () => {
  const c = await connect();
  c.s.write('{"id":1,"method":"signal","params":{"signal":"USR1"},"protocol":1}\n');
  expect(await c.next()).toMatchObject({ id: 1, ok: true });
  await waitFor(() => {
    try {
      return readFileSync(box.path("got"), "utf8").includes("USR1");
    } catch {
      return false;
    }
  }, 5_000, "USR1 to reach the child");

  const ev = await connect();
  ev.s.write('{"id":9,"method":"events","protocol":1}\n');
  expect(await ev.next()).toMatchObject({ id: 9, ok: true });
  c.s.write('{"id":2,"method":"restart","protocol":1}\n');
  const seen: string[] = [];
  while (!seen.includes("ready")) {
    const m = await ev.next();
    expect(m.id).toBe(9);
    expect(m.event.schema).toBe("daemonctl/event@1");
    seen.push(m.event.type);
  }
  expect(seen).toEqual(["stop", "exit", "spawn", "ready"]);
  ev.s.destroy();
  c.s.destroy();
});

test("daemonctl events prints event lines", async () => {
  const follower = box.spawn(["events", "web"]);
  await waitFor(() => follower.stderr.includes("following web"), 5_000, "the follower to subscribe");
  expect((await box.run(["restart", "web"])).code).toBe(0);
  await waitFor(() => follower.stdout.includes('"type":"ready"'), 10_000, "events output");
  for (const line of follower.stdout.trim().split("\n")) expect(JSON.parse(line).schema).toBe("daemonctl/event@1");
  follower.kill("SIGTERM");
  expect((await follower.waitExit()).code).toBe(0);
});

test("a follower sees the replace and reclaim events that a new host emits while it binds", async () => {
  const other = new Sandbox();
  try {
    expect((await other.run(["start", "svc", "--", "sleep", "1000"])).code).toBe(0);
    const follower = other.spawn(["events", "svc"]);
    await waitFor(() => follower.stderr.includes("following svc"), 5_000, "the follower to subscribe");
    expect((await other.run(["start", "svc", "--", "sleep", "2000"])).code).toBe(0);
    await waitFor(() => follower.stdout.includes('"type":"replace"') && follower.stdout.includes('"type":"ready"'), 10_000, "replace + ready");
    const types = follower.stdout.trim().split("\n").map((l) => JSON.parse(l).type);
    expect(types).toContain("stop");
    const keys = follower.stdout.trim().split("\n");
    expect(new Set(keys).size).toBe(keys.length);
    follower.kill("SIGINT");
    await follower.waitExit();
  } finally {
    await other.cleanup();
  }
});
