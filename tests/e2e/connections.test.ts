/**
 * Control socket under connection pressure (docs/protocol.md#connections): idle and following
 * clients beyond the connection limit never make a live host look foreign, and clients that send
 * without reading are throttled instead of growing the host's memory and latency.
 */
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { json, sandboxes, waitFor, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();
const CHILD = ["sleep", "1000"];

interface Raw {
  s: Socket;
  text: string;
  closed: boolean;
}

/** A raw client connection that records whatever the host says and whether it closed. */
function rawConnect(path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const c: Raw = { s, text: "", closed: false };
    s.on("data", (d) => (c.text += d.toString()));
    s.on("close", () => (c.closed = true));
    s.on("error", () => {});
    s.once("connect", () => resolve(c));
    s.once("error", reject);
  });
}

/** Opens `n` connections one after another (as a burst of clients would arrive). */
async function openMany(path: string, n: number): Promise<Raw[]> {
  const out: Raw[] = [];
  for (let i = 0; i < n; i++) out.push(await rawConnect(path));
  return out;
}

function closeAll(conns: Raw[]): void {
  for (const c of conns) c.s.destroy();
}

async function startStandalone(box: Sandbox, name: string): Promise<{ host: number; child: number }> {
  const r = await box.run(["start", name, "--", ...CHILD]);
  expect(r.code).toBe(0);
  const st = json(await box.run(["status", name, "--json"]));
  return { host: st.pid, child: st.child.pid };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

/** `start` again with the same definition: the host that answers (however busy) stays. */
async function expectStartKeeps(box: Sandbox, name: string, was: { host: number; child: number }, cwd?: string): Promise<void> {
  const again = await box.run(["start", name, ...(cwd ? [] : ["--", ...CHILD])], { cwd });
  expect({ code: again.code, stderr: again.stderr }).toMatchObject({ code: 0, stderr: expect.stringContaining("already running") });
  const st = await box.run(["status", name, "--json"], { cwd });
  expect(st.code).toBe(0);
  expect(json(st)).toMatchObject({ state: "running", pid: was.host, child: { pid: was.child } });
}

test("300 idle connections: `start` with the same definition finds the daemon running and leaves it alone", async () => {
  const box = sandbox();
  const was = await startStandalone(box, "x");
  const conns = await openMany(`${box.runtimeDir}/x.sock`, 300);
  try {
    await expectStartKeeps(box, "x", was);
    expect(box.children(CHILD)).toEqual([was.child]);
    // Connections beyond the limit pushed out the least recently active idle ones, each told why.
    const gone = conns.filter((c) => c.closed);
    expect(gone.length).toBeGreaterThan(0);
    for (const c of gone) expect(JSON.parse(c.text.trim().split("\n")[0]!)).toMatchObject({ id: null, ok: false, error: { code: "evicted" } });
  } finally {
    closeAll(conns);
  }
}, 30_000);

test("300 event-following connections: `start` and `status` still get through", async () => {
  const box = sandbox();
  const was = await startStandalone(box, "x");
  const conns = await openMany(`${box.runtimeDir}/x.sock`, 300);
  try {
    conns.forEach((c, i) => c.s.write(`{"id":${i},"method":"events","protocol":1}\n`));
    await waitFor(() => conns.every((c) => c.closed || c.text.includes('"subscribed":true')), 10_000, "every follower to be subscribed or evicted");
    await expectStartKeeps(box, "x", was);
    expect(box.children(CHILD)).toEqual([was.child]);
  } finally {
    closeAll(conns);
  }
}, 30_000);

test("inside supervise: 300 idle connections to a daemon's socket, then `start`: the supervisor keeps it", async () => {
  const box = sandbox();
  writeFileSync(box.path("daemonctl.json"), JSON.stringify({ daemons: { d: { command: CHILD }, other: { command: ["sleep", "1001"] } } }));
  const sup = box.spawn(["supervise"]);
  const st0 = await waitFor(async () => {
    const r = await box.run(["status", "d", "--json"], { cwd: box.dir });
    return r.code === 0 ? json(r) : null;
  }, 10_000, "d running under supervise");
  expect(st0.pid).toBe(sup.pid);
  const was = { host: sup.pid, child: st0.child.pid as number };
  const conns = await openMany(`${box.runtimeDir}/d.sock`, 300);
  try {
    await expectStartKeeps(box, "d", was, box.dir);
    const all = json(await box.run(["status", "--json"], { cwd: box.dir }));
    expect(all.daemons.map((d: any) => [d.name, d.state, d.pid])).toEqual([
      ["d", "running", sup.pid],
      ["other", "running", sup.pid],
    ]);
    expect(sup.stderr).not.toContain("another process owns this daemon");
  } finally {
    closeAll(conns);
  }
}, 30_000);

test("a host that answers only with protocol errors is alive: start, status and stop say it is busy and leave it alone", async () => {
  const box = sandbox();
  mkdirSync(box.runtimeDir, { recursive: true, mode: 0o700 });
  const sock = `${box.runtimeDir}/x.sock`;
  const refusal = `${JSON.stringify({ id: null, ok: false, error: { code: "too-many-connections", message: "every connection is busy" } })}\n`;
  const server = createServer((s) => {
    s.on("error", () => {});
    s.once("data", () => s.end(refusal));
  });
  await new Promise<void>((r) => server.listen(sock, () => r()));
  try {
    const ino = statSync(sock).ino;
    const start = await box.run(["start", "x", "--no-wait", "--", ...CHILD]);
    expect(start.code).not.toBe(0);
    expect(start.stderr).toContain("too busy to answer");
    const status = await box.run(["status", "x", "--json"]);
    expect(json(status)).toMatchObject({ state: "unknown", error: { code: "busy" } });
    const stop = await box.run(["stop", "x", "--timeout", "1s"]);
    expect(stop.code).not.toBe(0);
    expect(stop.stderr).toContain("too busy to answer");
    // Nothing was launched, reclaimed or unlinked.
    expect(statSync(sock).ino).toBe(ino);
    expect(box.hosts("x")).toEqual([]);
    expect(box.children(CHILD)).toEqual([]);
  } finally {
    server.close();
  }
}, 30_000);

test("60 clients pipelining 14 MB of status requests without reading: host memory and status latency stay bounded", async () => {
  const box = sandbox();
  const was = await startStandalone(box, "x");
  const rss0 = rssMiB(was.host);
  const flood = Buffer.from('{"id":1,"method":"status","protocol":1}\n'.repeat(Math.ceil((14 * 1024 * 1024) / 40)));
  const conns = await openMany(`${box.runtimeDir}/x.sock`, 60);
  let peakRss = rss0;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssMiB(was.host));
    } catch {
      // the host is gone: the assertions below say so
    }
  }, 25);
  const latencies: number[] = [];
  // Written in 1 MiB pieces: a piece's callback says the kernel took it, so the count of pieces
  // taken bounds what the host read (the rest of what was taken waits in socket buffers).
  const MiB = 1024 * 1024;
  const taken = conns.map(() => 0);
  try {
    conns.forEach((c, i) => {
      for (let o = 0; o < flood.length; o += MiB) c.s.write(flood.subarray(o, o + MiB), () => taken[i]!++);
    });
    // Sample while the flood runs: 15 status calls, or 20 s, whichever ends first.
    const until = Date.now() + 20_000;
    while (latencies.length < 15 && Date.now() < until) {
      const r = await box.run(["status", "x", "--json"]);
      latencies.push(r.ms);
      expect(r.code).toBe(0);
      expect(json(r).pid).toBe(was.host);
    }
    peakRss = Math.max(peakRss, rssMiB(was.host));
    console.log(`flood: host RSS ${rss0.toFixed(0)} -> peak ${peakRss.toFixed(0)} MiB; status ms ${latencies.join(" ")}; the kernel took at most ${Math.max(...taken)} of 14 MiB pieces from a client`);
    expect(peakRss).toBeLessThan(200);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    // The host stopped reading, so the kernel pushed back: most of each flood was never sent.
    expect(Math.max(...taken)).toBeLessThanOrEqual(2);
  } finally {
    clearInterval(sampler);
    closeAll(conns);
  }
  // Once the flooders go, the host is as it was.
  expect(json(await box.run(["status", "x", "--json"])).child.pid).toBe(was.child);
}, 60_000);
