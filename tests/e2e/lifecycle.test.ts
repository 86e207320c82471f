/**
 * Readiness, failed starts, restart policy, start limit, stop escalation, logs
 * (docs/configuration.md#daemon-definition-keys).
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { Sandbox, alive, json, waitFor, sandboxes, freePort } from "../helpers/harness.ts";

const sandbox = sandboxes();

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

const BUN = process.execPath;

test("ready tcp:HOST:PORT — start returns only once the port accepts", async () => {
  const box = sandbox();
  const port = await freePort();
  const script = `setTimeout(() => require("node:net").createServer(() => {}).listen(${port}, "127.0.0.1"), 600); setInterval(() => {}, 1000);`;
  const r = await box.run(["start", "web", "--ready", `tcp:127.0.0.1:${port}`, "--", BUN, "-e", script]);
  expect(r.code).toBe(0);
  expect(await canConnect(port)).toBe(true);
  expect(r.ms).toBeGreaterThanOrEqual(500);
});

test("ready log:REGEX and exec:COMMAND", async () => {
  const box = sandbox();
  const r1 = await box.run(["start", "a", "--ready", "log:listening on \\d+", "--", "sh", "-c", "sleep 0.3; echo listening on 42; exec sleep 1000"]);
  expect(r1.code).toBe(0);
  expect(r1.ms).toBeGreaterThanOrEqual(250);
  const flag = box.path("flag");
  const r2 = await box.run(["start", "b", "--ready", `exec:test -f ${flag}`, "--", "sh", "-c", `sleep 0.3; touch ${flag}; exec sleep 1000`]);
  expect(r2.code).toBe(0);
  expect(existsSync(flag)).toBe(true);
  const r3 = await box.run(["start", "c", "--ready", "delay:400ms", "--", "sleep", "1000"]);
  expect(r3.code).toBe(0);
  expect(r3.ms).toBeGreaterThanOrEqual(400);
});

test("a daemon that exits during start: exit 1 with its last output lines", async () => {
  const box = sandbox();
  // delay:100ms (the old meaning of `none`): it surely exits before it is ready.
  const r = await box.run(["start", "bad", "--restart", "no", "--ready", "delay:100ms", "--", "sh", "-c", "echo first line; echo boom >&2; exit 3"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("exited with code 3");
  expect(r.stderr).toContain("boom");
  expect(r.stderr).toContain("first line");
  const st = await box.run(["status", "bad", "--json"]);
  expect(json(st).state).toBe("failed");
  expect(json(st).child.lastExit.code).toBe(3);
  expect(st.code).toBe(1);
});

test("ready none: ready once executed, not after a settle time (delay:100ms keeps the old rule)", async () => {
  const box = sandbox();
  const events = async (name: string) => (await box.run(["events", name, "--no-follow"])).stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const gap = async (name: string) => {
    const ev = await events(name);
    const at = (type: string) => Date.parse(ev.find((e) => e.type === type)!.ts);
    return at("ready") - at("spawn");
  };
  expect((await box.run(["start", "now", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["start", "old", "--ready", "delay:100ms", "--", "sleep", "1000"])).code).toBe(0);
  // `none` used to wait 100 ms; now ready follows spawn at once (generous: a loaded host may lag).
  expect(await gap("now")).toBeLessThan(100);
  expect(await gap("old")).toBeGreaterThanOrEqual(100);
});

test("ready none and a daemon that exits at once: started, or reported gone; never hidden", async () => {
  const box = sandbox();
  const r = await box.run(["start", "quick", "--restart", "no", "--", "sh", "-c", "exit 3"]);
  // Either answer is honest, depending on whether its exit came before `start` looked.
  if (r.code !== 0) {
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("quick exited with code 3 right after it started");
  }
  await waitFor(async () => json(await box.run(["status", "quick", "--json"]))?.child?.lastExit?.code === 3, 5_000, "its exit recorded");
});

test("ready none: a command that cannot be executed is still a failed start at once, with a watchdog too", async () => {
  const box = sandbox();
  const plain = await box.run(["start", "gone", "--", "/nonexistent/daemon"]);
  expect(plain.code).toBe(1);
  expect(plain.stderr).toContain("command not found");
  const wrapped = await box.run(["start", "wd", "--watchdog", "5s", "--", "no-such-command-daemonctl-test"]);
  expect(wrapped.code).toBe(1);
  expect(wrapped.stderr).toContain("command not found");
  expect(json(await box.run(["status", "wd", "--json"])).state).toBe("failed");
});

test("a missing command: exit 1 saying so", async () => {
  const box = sandbox();
  const r = await box.run(["start", "nope", "--restart", "no", "--", "/nonexistent/daemon"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("command not found");
});

test("readiness never comes: exit 1 after the readiness timeout", async () => {
  const box = sandbox();
  const cfg = box.path("daemonctl.json");
  writeFileSync(cfg, JSON.stringify({ daemons: { slow: { command: ["sleep", "1000"], ready: "exec:false", readyTimeout: "700ms", restart: "no" } } }));
  const r = await box.run(["start", "slow", "--config", cfg, "--wait", "500ms"]);
  expect(r.code).toBe(1);
  // --wait never undercuts the readiness timeout it waits for
  expect(r.ms).toBeGreaterThanOrEqual(700);
});

test("restart on-failure with backoff, then the start limit: state failed after exactly `burst` runs", async () => {
  const box = sandbox();
  const runs = box.path("runs");
  const cfg = box.path("daemonctl.json");
  writeFileSync(
    cfg,
    JSON.stringify({ daemons: { crash: { command: ["sh", "-c", `echo run >> ${runs}; sleep 0.2; exit 7`], startLimit: { burst: 3, interval: "1m" }, backoff: { initial: "50ms" } } } }),
  );
  const r = await box.run(["start", "crash", "--config", cfg]);
  expect(r.code).toBe(0); // ready (executed) before the first crash
  await waitFor(async () => json(await box.run(["status", "crash", "--json"])).state === "failed", 10_000, "state failed");
  expect(readFileSync(runs, "utf8").trim().split("\n")).toHaveLength(3);
  const st = await box.run(["status", "crash", "--json"]);
  expect(st.code).toBe(1);
  expect(json(st).child.lastExit.code).toBe(7);
  expect(json(await box.run(["reconcile", "--json", "--config", cfg]))[0].action).toBe("skipped-failed");
});

test("restart always: a clean exit is restarted and counted", async () => {
  const box = sandbox();
  const r = await box.run(["start", "tick", "--restart", "always", "--", "sh", "-c", "sleep 0.3"]);
  expect(r.code).toBe(0);
  await waitFor(async () => json(await box.run(["status", "tick", "--json"])).child.restarts >= 2, 10_000, "two restarts");
});

test("stop escalates to SIGKILL after stopTimeout for a daemon that ignores its stop signal", async () => {
  const box = sandbox();
  const r = await box.run(["start", "stubborn", "--stop-timeout", "500ms", "--", "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]);
  expect(r.code).toBe(0);
  const child = box.metadata("stubborn").child.pid;
  const stop = await box.run(["stop", "stubborn"]);
  expect(stop.code).toBe(0);
  expect(stop.ms).toBeGreaterThanOrEqual(450);
  expect(stop.ms).toBeLessThan(5_000);
  expect(alive(child)).toBe(false);
});

test("stopSignal is what the daemon gets", async () => {
  const box = sandbox();
  const got = box.path("got");
  const r = await box.run(["start", "h", "--stop-signal", "HUP", "--", "sh", "-c", `trap 'echo HUP > ${got}; exit 0' HUP; while :; do sleep 0.1; done`]);
  expect(r.code).toBe(0);
  expect((await box.run(["stop", "h"])).code).toBe(0);
  expect(readFileSync(got, "utf8").trim()).toBe("HUP");
});

test("the child gets the caller's environment plus --env, --cwd, stdin /dev/null; output lands in the log", async () => {
  const box = sandbox();
  const r = await box.run(
    ["start", "envy", "--env", "B=two", "--cwd", "/tmp", "--ready", "log:done", "--", "sh", "-c", 'echo "A=$A B=$B PWD=$(pwd) NAME=$DAEMONCTL_NAME"; read x; echo "read=$?"; echo done; exec sleep 1000'],
    { env: { A: "one" } },
  );
  expect(r.code).toBe(0);
  const logs = await box.run(["logs", "envy"]);
  expect(logs.stdout).toContain("A=one B=two PWD=/tmp NAME=envy");
  expect(logs.stdout).toContain("read=1");
  const two = await box.run(["logs", "envy", "-n", "1"]);
  expect(two.stdout.trim()).toBe("done");
});

test("logs rotate by size", async () => {
  const box = sandbox();
  const cfg = box.path("daemonctl.json");
  writeFileSync(cfg, JSON.stringify({ daemons: { chatty: { command: ["sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line $i; i=$((i+1)); done; exec sleep 1000"], log: { maxSize: "1K", maxFiles: 2 } } } }));
  expect((await box.run(["start", "chatty", "--config", cfg])).code).toBe(0);
  await waitFor(() => existsSync(`${box.stateDir}/logs/chatty.log.2`), 5_000, "two rotations");
  expect(existsSync(`${box.stateDir}/logs/chatty.log.3`)).toBe(false);
});

test("logs -f follows new output", async () => {
  const box = sandbox();
  expect((await box.run(["start", "ticker", "--", "sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.1; done"])).code).toBe(0);
  const follower = box.spawn(["logs", "ticker", "-f", "-n", "0"]);
  await waitFor(() => /tick \d+\n.*tick \d+/s.test(follower.stdout), 5_000, "followed output");
  follower.kill("SIGINT");
  expect((await follower.waitExit()).code).toBe(0);
});

test("a .env or bunfig.toml in the working directory is not loaded into daemonctl or its daemons", async () => {
  const box = sandbox();
  writeFileSync(box.path(".env"), "SNEAKY=from-dotenv\n");
  writeFileSync(box.path("bunfig.toml"), "[run]\nbun = true\n");
  const r = await box.run(["start", "envcheck", "--ready", "log:done", "--", "sh", "-c", 'echo "SNEAKY=[$SNEAKY]"; echo done; exec sleep 1000'], { cwd: box.dir });
  expect(r.code).toBe(0);
  expect((await box.run(["logs", "envcheck"])).stdout).toContain("SNEAKY=[]");
});

test("start of a daemon waiting out its backoff after a crash starts it now, and does not report the old crash", async () => {
  const box = sandbox();
  const flag = box.path("crashed-once");
  // Crashes on its first run only; the backoff before the host would restart it is 30 s.
  const script = `if [ -f ${flag} ]; then exec sleep 1000; else touch ${flag}; exit 1; fi`;
  const def = JSON.stringify({ command: ["sh", "-c", script], backoff: { initial: "30s", max: "30s" } });
  await box.run(["start", "b", "--no-wait", "--definition", def]);
  await waitFor(async () => json(await box.run(["status", "b", "--json"])).state === "backoff", 10_000, "b to crash into its backoff");
  const r = await box.run(["start", "b", "--json", "--definition", def]);
  expect(r.code, r.stderr).toBe(0);
  const s = json(r);
  expect(s.state).toBe("running");
  expect(s.child.pid).toBeGreaterThan(0);
});

test("a start that times out waiting for readiness says so, not just that the daemon was SIGKILLed", async () => {
  const box = sandbox();
  const r = await box.run(["start", "slow", "--ready", "tcp:127.0.0.1:1", "--ready-timeout", "300ms", "--restart", "no", "--", "sleep", "1000"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("slow was not ready within 300 ms (tcp:127.0.0.1:1), and was killed");
});

test("a readiness timeout is named even when the readiness spec holds a ';', and an earlier run's timeout is not blamed for a later SIGKILL", async () => {
  const box = sandbox();
  const second = box.path("second-run");
  // The first run never gets ready; the second kills itself with SIGKILL before it is ready.
  const script = `if [ -f ${second} ]; then sleep 0.1; kill -9 $$; else touch ${second}; exec sleep 1000; fi`;
  const args = ["start", "k", "--ready", "exec:sleep 5; true", "--ready-timeout", "300ms", "--restart", "no", "--", "sh", "-c", script];
  const first = await box.run(args);
  expect(first.code).toBe(1);
  expect(first.stderr).toContain("k was not ready within 300 ms (exec:sleep 5; true), and was killed");
  await box.run(["stop", "k"]);
  // A readiness timeout far beyond its death: the SIGKILL is its own, never the host's.
  const later = await box.run(args.map((a) => (a === "300ms" ? "10s" : a)));
  expect(later.code).toBe(1);
  expect(later.stderr).toContain("k was killed by SIGKILL before it was ready");
  expect(later.stderr).not.toContain("k was not ready within");
});

test("start --no-wait --json of a daemon in its backoff prints the status the start left, not the crash before it", async () => {
  const box = sandbox();
  const flag = box.path("crashed-once");
  const script = `if [ -f ${flag} ]; then exec sleep 1000; else touch ${flag}; exit 1; fi`;
  const def = JSON.stringify({ command: ["sh", "-c", script], backoff: { initial: "30s", max: "30s" } });
  await box.run(["start", "nb", "--no-wait", "--definition", def]);
  await waitFor(async () => json(await box.run(["status", "nb", "--json"])).state === "backoff", 10_000, "nb to crash into its backoff");
  const r = await box.run(["start", "nb", "--no-wait", "--json", "--definition", def]);
  expect(r.code, r.stderr).toBe(0);
  const s = json(r);
  expect(s.state).not.toBe("backoff");
  expect(s.child.pid).toBeGreaterThan(0);
});

test("starts during backoff count as restarts and stay under the start limit: callers that keep asking cannot drive a crash loop past it", async () => {
  const box = sandbox();
  const def = JSON.stringify({ command: ["sh", "-c", "sleep 0.05; exit 1"], backoff: { initial: "30s", max: "30s" }, startLimit: { burst: 3, interval: "60s" } });
  await box.run(["start", "c", "--no-wait", "--definition", def]);
  const states: string[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await waitFor(async () => {
      const st = json(await box.run(["status", "c", "--json"]));
      return st.state === "backoff" || st.state === "failed" ? st : null;
    }, 10_000, "c to crash");
    states.push(`${s.state}:${s.child.restarts}`);
    if (s.state === "failed") break;
    await box.run(["start", "c", "--definition", def]);
  }
  expect(states).toEqual(["backoff:0", "backoff:1", "failed:2"]);
});
