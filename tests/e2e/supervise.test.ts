/**
 * `daemonctl supervise` as PID 1 of a PID namespace (docs/containers.md). Skipped, with the
 * reason printed, where `unshare -fp` is not permitted.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { Namespace, allPids, cmdline, json, ppidOf, procState, sandboxes, setprivProblem, waitFor, type Sandbox } from "../helpers/harness.ts";

let skip: string | null = null;
beforeAll(async () => {
  const { unshareProblem } = await import("../helpers/harness.ts");
  skip = await unshareProblem();
  if (skip) console.warn(`SKIP supervise tests: ${skip}`);
});

const sandbox = sandboxes();

function sandboxWith(daemons: Record<string, unknown>, extra: Record<string, unknown> = {}): Sandbox {
  const box = sandbox();
  writeFileSync(box.path("daemonctl.json"), JSON.stringify({ ...extra, daemons }));
  return box;
}

const lines = (s: string) => s.split("\n").filter(Boolean);

describe("multi-daemon mode", () => {
  test("prefixed output on the right streams, orphans reaped, TERM with --grace 2s: ignorer SIGKILLed, exit 0 in 2-3 s", async () => {
    if (skip) return;
    const box = sandboxWith({
      talker: { command: ["sh", "-c", "echo to-out; echo to-err >&2; printf 'no newline at end'; exec sleep 1000"] },
      orphans: { command: ["sh", "-c", "for i in $(seq 20); do (sleep 0.3 &); done; exec sleep 1000"] },
      stubborn: { command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"] },
    });
    const ns = await Namespace.start(box, ["supervise", "--grace", "2s"]);
    await waitFor(() => ns.proc.stdout.includes("to-out") && ns.proc.stderr.includes("to-err"), 10_000, "daemon output");
    expect(lines(ns.proc.stdout)).toContain("[talker]   to-out");
    expect(lines(ns.proc.stderr)).toContain("[talker]   to-err");
    expect(ns.proc.stdout).not.toContain("to-err");
    // The orphans live 0.3 s: within 1.5 s of the start every one must be gone, reaped.
    await waitFor(() => ns.zombies().length === 0 && ns.childrenRunning(["sleep", "0.3"]).length === 0, 1_500, "orphans reaped");
    const st = await ns.run(["status", "--json"]);
    expect(json(st).daemons.map((d: any) => d.state)).toEqual(["running", "running", "running"]);
    const t0 = Date.now();
    ns.kill("SIGTERM");
    const { code } = await ns.waitExit(10_000);
    const took = Date.now() - t0;
    expect(code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(3_000);
    expect(ns.proc.stderr).toContain("SIGKILL to stubborn");
    // A partial last line is finished when the daemon stops.
    expect(lines(ns.proc.stdout)).toContain("[talker]   no newline at end");
    // Intent survives an unplanned container stop.
    expect(box.state("talker").intent).toBe("running");
  });

  test("a crashing daemon with start limit 3 runs exactly 3 times, is failed, and its code is the container's after TERM", async () => {
    if (skip) return;
    const box = sandboxWith({
      crash: { command: ["sh", "-c", "echo run >> runs; sleep 0.2; exit 7"], cwd: ".", startLimit: { burst: 3, interval: "1m" }, backoff: { initial: "50ms" } },
      steady: { command: ["sleep", "1000"] },
    });
    const ns = await Namespace.start(box, ["supervise"]);
    await waitFor(async () => json(await ns.run(["status", "crash", "--json"])).state === "failed", 15_000, "crash to fail");
    expect(lines(readFileSync(box.path("runs"), "utf8"))).toHaveLength(3);
    const st = await ns.run(["status", "crash"]);
    expect(st.code).toBe(1);
    expect((await ns.run(["status", "steady"])).code).toBe(0);
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(7);

    // A failed daemon stays down after a container restart; an explicit start brings it back.
    const again = await Namespace.start(box, ["supervise"]);
    await waitFor(async () => (await again.run(["status", "steady"])).code === 0, 10_000, "steady back");
    expect(again.proc.stderr).toContain("crash: not started (it last failed; run daemonctl start crash)");
    expect(json(await again.run(["status", "crash", "--json"])).state).toBe("failed");
    expect(lines(readFileSync(box.path("runs"), "utf8"))).toHaveLength(3);
    again.kill("SIGTERM");
    expect((await again.waitExit()).code).toBe(0);
  });

  test("daemons inherit the supervisor's umask, not the one used to bind sockets", async () => {
    if (skip) return;
    const daemons = Object.fromEntries(["a", "b", "c", "d"].map((n) => [n, { command: ["sh", "-c", `umask > umask-${n}; exec sleep 1000`], cwd: "." }]));
    const box = sandboxWith(daemons);
    const ns = await Namespace.start(box, ["supervise"]);
    await waitFor(() => ["a", "b", "c", "d"].every((n) => existsSync(box.path(`umask-${n}`)) && readFileSync(box.path(`umask-${n}`), "utf8").endsWith("\n")), 10_000, "umask files");
    const expected = process.umask().toString(8).padStart(4, "0");
    for (const n of ["a", "b", "c", "d"]) expect(readFileSync(box.path(`umask-${n}`), "utf8").trim()).toBe(expected);
    ns.kill("SIGTERM");
    await ns.waitExit();
  });

  test("stop never signals a supervisor that does not answer: it fails and says so", async () => {
    if (skip) return;
    const box = sandboxWith({ a: { command: ["sleep", "1000"] }, b: { command: ["sleep", "1000"] } });
    const ns = await Namespace.start(box, ["supervise"]);
    await waitFor(async () => (await ns.run(["status", "a", "b"])).code === 0, 10_000, "running");
    process.kill(ns.pid, "SIGSTOP");
    try {
      const r = await ns.run(["stop", "a", "--probe-timeout", "200ms"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("not signalled on behalf of one daemon");
    } finally {
      process.kill(ns.pid, "SIGCONT");
    }
    expect((await ns.run(["status", "a", "b"])).code).toBe(0);
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(0);
  });

  test("stop b sticks across container restarts; start b runs it under the same supervisor; both come back after that", async () => {
    if (skip) return;
    const box = sandboxWith({ a: { command: ["sleep", "1001"] }, b: { command: ["sleep", "1002"] } });
    let ns = await Namespace.start(box, ["supervise"]);
    await waitFor(async () => (await ns.run(["status", "a", "b"])).code === 0, 10_000, "both running");
    expect((await ns.run(["stop", "b"])).code).toBe(0);
    expect((await ns.run(["status", "b"])).code).toBe(3);
    expect((await ns.run(["status", "a"])).code).toBe(0); // the supervisor stays up
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(0);

    ns = await Namespace.start(box, ["supervise"]);
    await waitFor(async () => (await ns.run(["status", "a"])).code === 0, 10_000, "a back");
    expect(ns.proc.stderr).toContain("b: left down (stopped by an operator)");
    expect(ns.proc.stderr).toContain("a: starting");
    expect((await ns.run(["status", "b"])).code).toBe(3);
    const started = await ns.run(["start", "b"]);
    expect(started.code).toBe(0);
    const sb = json(await ns.run(["status", "b", "--json"]));
    expect(sb.state).toBe("running");
    expect(sb.pid).toBe(1); // served by the supervisor itself, no second host
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(0);

    ns = await Namespace.start(box, ["supervise"]);
    await waitFor(async () => (await ns.run(["status", "a", "b"])).code === 0, 10_000, "both back");
    ns.kill("SIGTERM");
    await ns.waitExit();
  });

  test('onExit "shutdown": that daemon exiting 4 stops the others and the supervisor exits 4', async () => {
    if (skip) return;
    const box = sandboxWith({
      essential: { command: ["sh", "-c", "sleep 0.5; exit 4"], onExit: "shutdown" },
      other: { command: ["sleep", "1000"] },
    });
    const ns = await Namespace.start(box, ["supervise"]);
    expect((await ns.waitExit(10_000)).code).toBe(4);
  });

  test("dependsOn with ready tcp: the dependent starts only after the port accepts", async () => {
    if (skip) return;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const bun = process.execPath;
    const box = sandboxWith({
      db: { command: [bun, "-e", `setTimeout(() => { require("fs").writeFileSync("db-listening", String(Date.now())); require("net").createServer(() => {}).listen(${port}, "127.0.0.1"); }, 700); setInterval(() => {}, 1e6);`], ready: `tcp:127.0.0.1:${port}`, cwd: "." },
      api: { command: ["sh", "-c", "date +%s%3N > api-started; exec sleep 1000"], dependsOn: ["db"], cwd: "." },
    });
    const ns = await Namespace.start(box, ["supervise"]);
    // The shell creates the file before it writes the time: wait for the content.
    const stamp = (f: string) => (existsSync(box.path(f)) ? Number(readFileSync(box.path(f), "utf8").trim()) || 0 : 0);
    const apiAt = await waitFor(() => stamp("api-started"), 10_000, "api to start");
    const dbAt = stamp("db-listening");
    expect(dbAt).toBeGreaterThan(0);
    expect(apiAt).toBeGreaterThanOrEqual(dbAt);
    expect(ns.proc.stderr).toContain("api waits for db to be ready");
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(0);
  });

  test("--only selects a subset and warns about unknown names; other signals are forwarded; JSON log format", async () => {
    if (skip) return;
    const box = sandboxWith({
      a: { command: ["sh", "-c", "trap 'echo got-usr1' USR1; echo 'bad \\377 byte'; while :; do sleep 0.05; done"] },
      b: { command: ["sleep", "1000"] },
    });
    const ns = await Namespace.start(box, ["supervise", "--only", "a,zz", "--log-format", "json"]);
    await waitFor(() => ns.proc.stdout.includes("bad"), 10_000, "a's output");
    expect(ns.proc.stderr).toContain('names "zz"');
    // b is defined (in the config, which this caller names), only not selected: stopped, not unknown.
    expect((await ns.run(["status", "b", "--config", box.path("daemonctl.json")])).code).toBe(3);
    ns.kill("SIGUSR1");
    await waitFor(() => ns.proc.stdout.includes("got-usr1"), 5_000, "USR1 forwarded");
    const records = lines(ns.proc.stdout).map((l) => JSON.parse(l));
    expect(records[0]).toMatchObject({ name: "a", stream: "stdout", line: "bad \uFFFD byte" });
    expect(typeof records[0].ts).toBe("string");
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(0);
  });

  test("DAEMONCTL_DAEMONS narrows the set too; a second TERM kills at once; notify runs with the event", async () => {
    if (skip) return;
    const box = sandboxWith({
      quick: { command: ["sh", "-c", "sleep 0.3; exit 3"], restart: "no", notify: ["sh", "-c", 'echo "$DAEMONCTL_EVENT_TYPE $DAEMONCTL_EVENT_NAME $DAEMONCTL_EVENT_CODE" >> notified'], cwd: "." },
      slow: { command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"] },
      skipped: { command: ["sleep", "1000"] },
    });
    const ns = await Namespace.start(box, ["supervise", "--grace", "30s"], { env: { DAEMONCTL_DAEMONS: "quick,slow" } });
    await waitFor(() => existsSync(box.path("notified")) && readFileSync(box.path("notified"), "utf8").endsWith("\n"), 10_000, "notify");
    expect(readFileSync(box.path("notified"), "utf8").trim()).toBe("exit quick 3");
    expect((await ns.run(["status", "skipped", "--config", box.path("daemonctl.json")])).code).toBe(3);
    const t0 = Date.now();
    ns.kill("SIGTERM");
    ns.kill("SIGTERM"); // the same Ctrl+C delivered twice (terminal + wrapper): not a second request
    await waitFor(() => ns.proc.stderr.includes("stopping"), 5_000, "shutdown to begin");
    // A second request is one that comes later than 500 ms after the first.
    await waitFor(() => Date.now() - t0 > 600, 2_000, "the duplicate window to pass");
    expect(ns.proc.stderr).not.toContain("killing every daemon");
    ns.kill("SIGTERM");
    const { code } = await ns.waitExit(10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(ns.proc.stderr).toContain("killing every daemon");
    expect(code).toBe(3); // quick crashed before the shutdown and keeps its code
    expect(ns.proc.stderr.split("stopping")[1]).not.toContain("restarts in"); // nothing restarts once shutting down
  });

  test("when every daemon ends on its own, the supervisor exits with the worst code", async () => {
    if (skip) return;
    const box = sandboxWith({
      one: { command: ["sh", "-c", "exit 0"], restart: "no", ready: "none" },
      two: { command: ["sh", "-c", "sleep 0.3; exit 5"], restart: "no" },
    });
    const ns = await Namespace.start(box, ["supervise"]);
    expect((await ns.waitExit(10_000)).code).toBe(5);
  });

  test("the exec user can control daemons when socketGroup/socketMode allow it (uid 65534)", async () => {
    if (skip) return;
    const noPriv = await setprivProblem();
    if (noPriv) return console.warn(`SKIP: ${noPriv}`);
    const box = sandboxWith({ web: { command: ["sh", "-c", "echo hello from web; exec sleep 1000"] } }, { socketGroup: 65534, socketMode: "0660" });
    const ns = await Namespace.start(box, ["supervise"]);
    await waitFor(async () => (await ns.run(["status", "web"])).code === 0, 10_000, "web running");
    const asNobody = { unprivileged: true };
    expect((await ns.run(["status", "web", "--json"], asNobody)).code).toBe(0);
    const logs = await ns.run(["logs", "web"], asNobody);
    expect({ code: logs.code, out: logs.stdout }).toEqual({ code: 0, out: "hello from web\n" });
    expect((await ns.run(["stop", "web"], asNobody)).code).toBe(0);
    expect((await ns.run(["status", "web"], asNobody)).code).toBe(3);
    const st = await ns.run(["start", "web", "--config", box.path("daemonctl.json")], asNobody);
    expect(st.code).toBe(0);
    expect(json(await ns.run(["status", "web", "--json"], asNobody)).pid).toBe(1);
    // Without the group, the same user is refused.
    const other = sandboxWith({ web: { command: ["sleep", "1000"] } });
    const ns2 = await Namespace.start(other, ["supervise"]);
    await waitFor(async () => (await ns2.run(["status", "web"])).code === 0, 10_000, "web running");
    expect((await ns2.run(["status", "web"], asNobody)).code).toBe(4);
    for (const n of [ns, ns2]) {
      n.kill("SIGTERM");
      await n.waitExit();
    }
  });

  test("invalid dependsOn (cycle) is a usage error before anything starts", async () => {
    if (skip) return;
    const box = sandboxWith({ a: { command: ["true"], dependsOn: ["b"] }, b: { command: ["true"], dependsOn: ["a"] } });
    const r = await box.run(["supervise"], { cwd: box.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cycle");
  });
});

describe("single-child mode (tini / dumb-init drop-in)", () => {
  test.each([0, 1, 2, 32, 127, 255])("exit code %d is passed through", async (code) => {
    if (skip) return;
    const box = sandbox();
    const ns = await Namespace.start(box, ["supervise", "--", "sh", "-c", `exit ${code}`]);
    expect((await ns.waitExit()).code).toBe(code);
  });

  test("killed by a signal: 128+N; missing command: 127; not executable: 126", async () => {
    if (skip) return;
    const box = sandbox();
    const killed = await Namespace.start(box, ["supervise", "--", "sh", "-c", "kill -USR2 $$; sleep 5"]);
    expect((await killed.waitExit()).code).toBe(128 + 12);
    const missing = await Namespace.start(box, ["supervise", "--", "/no/such/command"]);
    expect((await missing.waitExit()).code).toBe(127);
    expect(missing.proc.stderr).toContain("command not found");
    writeFileSync(box.path("notexec"), "#!/bin/sh\n");
    const notExec = await Namespace.start(box, ["supervise", "--", box.path("notexec")]);
    expect((await notExec.waitExit()).code).toBe(126);
  });

  test("signals 1 2 3 10 12 13 14 15 23 26 28 each reach the child exactly once; none makes supervise quit", async () => {
    if (skip) return;
    const box = sandbox();
    const names = ["HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "TERM", "URG", "VTALRM", "WINCH"];
    const got = box.path("got");
    const script = `${names.map((s) => `trap 'echo ${s} >> ${got}' ${s}`).join("; ")}; touch ${got}.ready; while :; do sleep 0.05 & wait $!; done`;
    const ns = await Namespace.start(box, ["supervise", "--single-child", "--", "sh", "-c", script]);
    await waitFor(() => existsSync(`${got}.ready`), 5_000, "child ready");
    for (const [i, n] of [1, 2, 3, 10, 12, 13, 14, 15, 23, 26, 28].entries()) {
      ns.kill(n as unknown as NodeJS.Signals);
      await waitFor(() => existsSync(got) && lines(readFileSync(got, "utf8")).length === i + 1, 5_000, `signal ${n}`);
    }
    expect(lines(readFileSync(got, "utf8"))).toEqual(names);
    expect(ns.proc.child.exitCode).toBeNull();
    const child = Number((await ns.sh("cat /proc/1/task/*/children")).stdout.trim().split(" ")[0]);
    expect(child).toBeGreaterThan(1);
    await ns.sh(`kill -KILL ${child}`);
    expect((await ns.waitExit()).code).toBe(137);
  });

  test("--rewrite maps a signal before forwarding", async () => {
    if (skip) return;
    const box = sandbox();
    const got = box.path("got");
    const ns = await Namespace.start(box, ["supervise", "--rewrite", "TERM:USR1", "--", "sh", "-c", `trap 'echo USR1 >> ${got}; exit 0' USR1; trap 'echo TERM >> ${got}' TERM; touch ${got}.ready; while :; do sleep 0.05 & wait $!; done`]);
    await waitFor(() => existsSync(`${got}.ready`), 5_000, "child ready");
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(0);
    expect(readFileSync(got, "utf8").trim()).toBe("USR1");
  });

  test("a background process in the child's group gets TERM when the child exits", async () => {
    if (skip) return;
    const box = sandbox();
    const bg = box.path("bg");
    const ns = await Namespace.start(box, ["supervise", "--", "sh", "-c", `sh -c "trap 'echo TERM > ${bg}; exit 0' TERM; touch ${bg}.ready; while :; do sleep 0.05; done" & while [ ! -e ${bg}.ready ]; do sleep 0.02; done; exit 3`]);
    expect((await ns.waitExit()).code).toBe(3);
    await waitFor(() => existsSync(bg) && readFileSync(bg, "utf8").endsWith("\n"), 5_000, "the background job's TERM");
    expect(readFileSync(bg, "utf8").trim()).toBe("TERM");
  });

  test("50 orphans are reaped as PID 1", async () => {
    if (skip) return;
    const box = sandbox();
    const ns = await Namespace.start(box, ["supervise", "--", "sh", "-c", `for i in $(seq 50); do (sleep 0.2 &); done; touch ${box.path("spawned")}; exec sleep 1000`]);
    await waitFor(() => existsSync(box.path("spawned")), 5_000, "orphans spawned");
    // They live 0.2 s; no zombie may be older than a second.
    await waitFor(() => ns.zombies().length === 0 && ns.childrenRunning(["sleep", "0.2"]).length === 0, 1_500, "orphans reaped");
    const count = (await ns.sh("ls -d /proc/[0-9]* | wc -l")).stdout.trim();
    expect(Number(count)).toBeLessThan(10);
    ns.kill("SIGTERM");
    expect((await ns.waitExit()).code).toBe(143);
  });
});

describe("not PID 1", () => {
  test("supervise becomes a child subreaper and reaps its daemons' orphans", async () => {
    const box = sandbox();
    const spawned = box.path("spawned");
    const sup = box.spawn(["supervise", "--", "sh", "-c", `for i in $(seq 10); do (sleep 0.2 &); done; touch ${spawned}; exec sleep 1000`]);
    await waitFor(() => existsSync(spawned), 10_000, "orphans spawned");
    // Orphans re-parent to the subreaper (not to the real init) and are reaped when they exit.
    const orphans = () => allPids().filter((p) => ppidOf(p) === sup.pid && cmdline(p).join(" ") === "sleep 0.2");
    const zombies = () => allPids().filter((p) => ppidOf(p) === sup.pid && procState(p) === "Z");
    expect(orphans().length).toBeGreaterThan(0);
    await waitFor(() => orphans().length === 0 && zombies().length === 0, 1_500, "orphans reaped");
    sup.kill("SIGTERM");
    expect((await sup.waitExit()).code).toBe(143);
  });
});
