/**
 * Issue 20: the npm package as users get it. The packed tarballs (library and this platform's
 * binary package) are installed into a fresh project, and examples/embed's `mytool` runs under
 * Node, Bun and Deno: racing invocations leave one daemon, a SIGKILLed or SIGSTOPped host is
 * reclaimed with no orphan, a changed definition replaces the daemon, `ensureDaemon` respects an
 * operator's stop, and `status()` agrees with `daemonctl status --json`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { NOBODY, ROOT, alive, json, runProcess, sandboxes, setprivProblem, waitFor } from "../helpers/harness.ts";
import { isMuslBinary, targetFor, platformPackageName } from "../../src/lib/platform-package.ts";

const NAME = "mytool-cache";
const bunBin = process.execPath;
const denoBin = join(ROOT, "node_modules/.bin/deno");
const nodeBin = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim();
const npmBin = spawnSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).stdout.trim();
const musl = process.platform === "linux" && isMuslBinary(process.execPath);
const target = targetFor(process.platform, process.arch, musl);
const platformDir = target ? join(ROOT, "dist/npm", platformPackageName(target)) : "";

const missing = !npmBin ? "npm is not installed" : !target ? `no platform package for ${process.platform}-${process.arch}` : null;
if (missing) console.log(`skip: library package tests: ${missing}`);

let project = "";

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  if (missing) return;
  for (const dir of [join(ROOT, "dist/npm/daemonctl"), platformDir]) {
    if (!existsSync(join(dir, "package.json"))) throw new Error(`${dir} is missing: run \`bun build.ts\` (npm test does)`);
  }
  project = mkdtempSync("/tmp/dct-lib-");
  chmodSync(project, 0o755);
  const packs = join(project, "packs");
  mkdirSync(packs);
  sh(npmBin, ["pack", "--silent", "--pack-destination", packs, join(ROOT, "dist/npm/daemonctl"), platformDir], ROOT);
  const tarballs = readdirSync(packs).map((f) => join(packs, f));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "embed-test", version: "1.0.0", type: "module", private: true }));
  // Other platforms' optional packages are not published here: npm skips them, as it skips
  // those of other systems for a user.
  sh(npmBin, ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs], project);
  copyFileSync(join(ROOT, "examples/embed/mytool.ts"), join(project, "mytool.ts"));
  // Node 20 runs JavaScript: the example built as users of Node would ship it.
  sh(bunBin, ["build", join(project, "mytool.ts"), "--target=node", "--format=esm", "--external=daemonctl", "--outfile", join(project, "mytool.mjs")], ROOT);
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe.skipIf(missing !== null)("the packed library", () => {
  const box = sandboxes();

  test("installs with its platform binary, which the library finds first, and types that check", () => {
    const found = sh(nodeBin || bunBin, ["-e", "import('daemonctl').then((m) => console.log(m.findBinary(), m.VERSION))"], project).trim();
    expect(found).toBe(`${join(project, "node_modules", platformPackageName(target!), "bin/daemonctl")} ${JSON.parse(sh(bunBin, ["-e", "console.log(JSON.stringify(require('./package.json').version))"], ROOT))}`);
    // The declarations are usable by a strict consumer that resolves packages as Node does.
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", noEmit: true, skipLibCheck: false, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")] },
        files: ["mytool.ts"],
      }),
    );
    const tsc = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["-p", project], { encoding: "utf8" });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe("");
    expect(tsc.status).toBe(0);
  });

  test("without a binary anywhere, the error names all three places; a DAEMONCTL_BIN that is set is used as given, with no fallback", () => {
    const script = join(project, "which.mjs");
    writeFileSync(script, "import { findBinary } from 'daemonctl';\ntry { console.log(findBinary()); } catch (e) { console.log(e.code); console.log(e.message); }\n");
    const which = (env: Record<string, string>) => spawnSync(nodeBin || bunBin, [script], { cwd: project, encoding: "utf8", env }).stdout;
    // The platform package is installed: a broken override is still an error, not a quiet fallback.
    const broken = which({ PATH: "/nonexistent", DAEMONCTL_BIN: "/nonexistent/daemonctl" });
    expect(broken).toContain("binary-not-found");
    expect(broken).toContain("DAEMONCTL_BIN=/nonexistent/daemonctl: no such file");
    const moved = join(project, "node_modules", platformPackageName(target!));
    const aside = `${moved}.aside`;
    renameSync(moved, aside);
    try {
      const out = which({ PATH: "/nonexistent" });
      expect(out).toContain("binary-not-found");
      expect(out).toContain("DAEMONCTL_BIN: not set");
      expect(out).toContain(`${platformPackageName(target!)} is not installed`);
      expect(out).toContain("PATH: no executable daemonctl");
    } finally {
      renameSync(aside, moved);
    }
  });

  test("an unknown name is its own error; a Node 20 without process.getBuiltinModule still runs the library", async () => {
    const b = box();
    const script = join(project, "unknown.mjs");
    writeFileSync(
      script,
      `delete process.getBuiltinModule;
const { stop, status, restart, UnknownDaemonError, InvalidDefinitionError, ensureDaemon } = await import("daemonctl");
const out = { status: (await status("nope")).state };
// Reading a running daemon needs node:fs (its /proc identity, the directories).
await ensureDaemon({ name: "s", command: ["sleep", "1000"] });
out.running = (await status("s")).state;
try { await stop("nope"); } catch (e) { out.stop = e instanceof UnknownDaemonError ? e.code : String(e); }
try { await ensureDaemon(null); } catch (e) { out.null = e instanceof InvalidDefinitionError ? e.code : String(e); }
try { await ensureDaemon({ name: "e", command: [] }); } catch (e) { out.empty = e.message; }
// No wait: the host's first answer, and a status right after agrees.
out.restarted = (await restart("s", { waitMs: null })).state;
out.after = (await status("s")).state;
out.noWait = [];
for (let i = 0; i < 4; i++) {
  const launched = await ensureDaemon({ name: "nw" + i, command: ["sleep", "1000"], ready: "delay:2s" }, { waitMs: null });
  const now = await status("nw" + i);
  out.noWait.push(launched.state + "/" + now.state + "/" + (launched.pid === now.pid));
}
console.log(JSON.stringify(out));
`,
    );
    const r = await runProcess(nodeBin || bunBin, [script], { cwd: project, env: b.env({ PATH: "/usr/bin:/bin" }), timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: "unknown", running: "running", stop: "unknown-daemon", null: "invalid-definition", empty: "command: [] is not valid; needs at least 1 item" });
    expect(["starting", "running"]).toContain(out.restarted);
    expect(["starting", "running"]).toContain(out.after);
    expect(out.noWait).toEqual(Array(4).fill("starting/starting/true"));
  });

  test("connect: typed requests, events as an async iterator, and errors with codes to switch on", async () => {
    const b = box();
    const script = join(project, "conn.mjs");
    writeFileSync(
      script,
      `import { ensureDaemon, connect, restart, stop, status, NotRunningError, RequestFailedError } from "daemonctl";
const s = await ensureDaemon({ name: "sleeper", command: ["sleep", "1000"] });
const c = await connect("sleeper");
const st = await c.status();
const sig = await c.signal("CONT");
// Replayed from the start (retained events), so the restart cannot slip past the subscription.
const events = c.events({ since: new Date(0) });
const other = await connect("sleeper");
await other.restart();
const seen = [];
for await (const e of events) {
  seen.push(e.type);
  if (e.type === "ready" && seen.includes("exit")) break;
}
let reload = null;
try { await other.reload(); } catch (e) { reload = e instanceof RequestFailedError ? e.reason : String(e); }
other.close();
// The library's restart is the CLI's: a standalone host is replaced by a new one.
const r = await restart("sleeper");
let missing = null;
// A live daemon's stop is a protocol request made here: no binary is needed (this one is absent).
const stopped = await stop("sleeper", { env: { ...process.env, DAEMONCTL_BIN: "/nonexistent/daemonctl" } });
try { await connect("nope"); } catch (e) { missing = e instanceof NotRunningError ? e.code + ":" + e.status.state : String(e); }
const after = await status("sleeper");
console.log(JSON.stringify({ same: st.pid === s.pid, signalled: sig.signalled === s.child.pid, restarted: r.child.pid !== s.child.pid, seen, reload, missing, stopped: stopped.wasRunning, after: after.state + "/" + after.intent }));
`,
    );
    const r = await runProcess(nodeBin || bunBin, [script], { cwd: project, env: b.env({ PATH: "/usr/bin:/bin" }), timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ same: true, signalled: true, restarted: true, reload: "not-supervised", missing: "not-running:unknown", stopped: true, after: "stopped/stopped" });
    expect(out.seen.slice(0, 2)).toEqual(["spawn", "ready"]);
    expect(out.seen.slice(2)).toContain("exit");
    expect(out.seen.at(-1)).toBe("ready");
  });

  test("events(): a second subscription on one connection is refused, and the first still ends when the connection closes", async () => {
    const b = box();
    const script = join(project, "twice.mjs");
    writeFileSync(
      script,
      `import { ensureDaemon, connect, RequestFailedError } from "daemonctl";
await ensureDaemon({ name: "twice", command: ["sleep", "1000"] });
const c = await connect("twice");
const first = c.events({ since: new Date(0) });
const head = (await first.next()).value.type;
let second = null;
try { c.events(); } catch (e) { second = e instanceof RequestFailedError ? e.reason : String(e); }
setTimeout(() => c.close(), 100);
const rest = [];
const ended = await Promise.race([
  (async () => { for await (const e of first) rest.push(e.type); return "ended"; })(),
  new Promise((r) => setTimeout(() => r("still waiting"), 3000)),
]);
console.log(JSON.stringify({ head, second, ended }));
process.exit(0);
`,
    );
    const r = await runProcess(nodeBin || bunBin, ["--unhandled-rejections=strict", script], { cwd: project, env: b.env({ PATH: "/usr/bin:/bin" }), timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ head: "spawn", second: "already-subscribed", ended: "ended" });
  }, 30_000);

  test("restart: a start that fails says why (not the daemon's last line of output), with its status", async () => {
    const b = box();
    const flag = b.path("go");
    writeFileSync(flag, "");
    const script = join(project, "restart-fails.mjs");
    writeFileSync(
      script,
      `import { ensureDaemon, restart, StartFailedError } from "daemonctl";
const def = { name: "fragile", command: ["sh", "-c", "test -e ${flag} || { echo some output; exit 3; }; exec sleep 1000"], restart: "no" };
await ensureDaemon(def);
(await import("node:fs")).rmSync("${flag}");
try { await restart("fragile"); console.log("{}"); } catch (e) {
  console.log(JSON.stringify({ code: e.code, isStart: e instanceof StartFailedError, message: e.message, state: e.status?.state ?? null, logTail: e.logTail }));
}
`,
    );
    const r = await runProcess(nodeBin || bunBin, [script], { cwd: project, env: b.env({ PATH: "/usr/bin:/bin" }), timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ code: "start-failed", isStart: true, logTail: ["some output"] });
    expect(out.message).toContain("exited with code 3");
    expect(out.state).not.toBeNull();
  }, 30_000);

  test("an operator's stop still under way is respected: ensureDaemon does not wait it out and start again", async () => {
    const b = box();
    const script = join(project, "stopping.mjs");
    writeFileSync(
      script,
      `import { ensureDaemon, status, StoppedByOperatorError } from "daemonctl";
const def = { name: "stubborn", command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"], stopTimeout: "3s" };
if (process.argv[2] === "start") {
  console.log(JSON.stringify(await ensureDaemon(def)));
} else {
  const before = await status("stubborn");
  let outcome;
  try { outcome = (await ensureDaemon(def)).state; } catch (e) { outcome = e instanceof StoppedByOperatorError ? e.code : String(e); }
  console.log(JSON.stringify({ before: before.state, outcome }));
}
`,
    );
    const env = b.env({ PATH: "/usr/bin:/bin" });
    const started = await runProcess(nodeBin || bunBin, [script, "start"], { cwd: project, env, timeoutMs: 20_000 });
    expect(started.code, started.stderr).toBe(0);
    const hostPid = JSON.parse(started.stdout).pid as number;
    const stopping = b.spawn(["stop", "stubborn"]);
    await waitFor(async () => json(await b.run(["status", "stubborn", "--json"])).state === "stopping", 5_000, "the stop to be under way");
    const r = await runProcess(nodeBin || bunBin, [script, "check"], { cwd: project, env, timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ before: "stopping", outcome: "stopped-by-operator" });
    expect((await stopping.waitExit()).code).toBe(0);
    expect(alive(hostPid)).toBe(false);
    expect(b.hosts("stubborn")).toEqual([]);
  }, 30_000);

  test("as an unprivileged user with no daemonctl settings, the library and the CLI find the same daemon in the same default directories", async () => {
    const why = await setprivProblem();
    if (why || !nodeBin) {
      console.log(`skip: unprivileged library run: ${why ?? "node is not installed"}`);
      return;
    }
    const b = box({ unprivileged: true });
    const runtime = b.path("xdg-runtime");
    mkdirSync(runtime, { mode: 0o700 });
    chownSync(runtime, NOBODY, NOBODY);
    // A login session's environment: XDG_RUNTIME_DIR and HOME, and no DAEMONCTL_* at all.
    const env = { PATH: "/usr/bin:/bin", HOME: b.dir, XDG_RUNTIME_DIR: runtime, MYTOOL_SOCKET: join(runtime, "cache.sock"), NO_COLOR: "1" };
    const asNobody = (cmd: string, args: string[]) =>
      runProcess("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", cmd, ...args], { cwd: project, env, timeoutMs: 30_000 });
    const cli = join(project, "node_modules", platformPackageName(target!), "bin/daemonctl");
    try {
      const first = await asNobody(nodeBin, [join(project, "mytool.mjs"), "get", "a"]);
      expect(first.code, first.stderr).toBe(0);
      const second = await asNobody(nodeBin, [join(project, "mytool.mjs"), "get", "a"]);
      expect(second.stdout).toContain("(hit, cache pid");
      const s = JSON.parse((await asNobody(cli, ["status", NAME, "--json"])).stdout);
      for (const pid of [s.pid, s.child?.pid]) if (pid) b.track(pid);
      expect(s.state).toBe("running");
      expect(s.socketPath).toBe(join(runtime, "daemonctl", `${NAME}.sock`));
      expect(second.stdout).toContain(`cache pid ${s.child.pid})`);
      expect(existsSync(join(b.dir, ".local/state/daemonctl", `${NAME}.state.json`))).toBe(true);
    } finally {
      await asNobody(cli, ["stop", NAME, "-q"]);
    }
  });

  test("a connection left open does not keep the program from exiting (Node, Bun, Deno); a subscription does", async () => {
    const b = box();
    const script = join(project, "forget.mjs");
    writeFileSync(
      script,
      `import { ensureDaemon, connect } from "daemonctl";
await ensureDaemon({ name: "idle", command: ["sleep", "1000"] });
const c = await connect("idle");
console.log((await c.status()).state);
// no c.close(): the host would only drop it after 10 s idle
`,
    );
    for (const argv of [[nodeBin || bunBin], [bunBin], [denoBin, "run", "-A"]]) {
      if (!existsSync(argv[0]!)) continue;
      const r = await runProcess(argv[0]!, [...argv.slice(1), script], { cwd: project, env: b.env({ PATH: "/usr/bin:/bin" }), timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("running");
      expect(r.ms, `${argv[0]} exited after ${r.ms} ms`).toBeLessThan(5_000);
    }
  });

  const runtimes: Array<[string, () => string[] | null]> = [
    ["node", () => (nodeBin ? [nodeBin, join(project, "mytool.mjs")] : null)],
    ["bun", () => [bunBin, join(project, "mytool.ts")]],
    ["deno", () => (existsSync(denoBin) ? [denoBin, "run", "-A", join(project, "mytool.ts")] : null)],
  ];
  for (const [runtime, argvOf] of runtimes) {
    test(`${runtime}: one daemon for 16 racing calls; reclaimed after SIGKILL and SIGSTOP; replaced when changed; a stop is respected`, async () => {
      const argv = argvOf();
      if (!argv) {
        console.log(`skip: ${runtime} is not installed`);
        return;
      }
      const b = box();
      const env = b.env({ PATH: "/usr/local/bin:/usr/bin:/bin", MYTOOL_SOCKET: b.path("cache.sock"), MYTOOL_TTL: "60", DENO_NO_UPDATE_CHECK: "1" });
      const mytool = (args: string[], extra: Record<string, string> = {}) => runProcess(argv[0]!, [...argv.slice(1), ...args], { cwd: project, env: { ...env, ...extra }, timeoutMs: 45_000 });
      const cachePid = (out: string) => Number(/cache pid (\d+)/.exec(out)?.[1]);
      const serving = () => b.processes().filter((p) => p.argv.includes("serve")).map((p) => p.pid);

      // 16 invocations at once: every one answered by the same cache daemon, and only one exists.
      const racing = await Promise.all(Array.from({ length: 16 }, (_, i) => mytool(["get", `k${i}`])));
      for (const r of racing) expect(r.code, r.stderr).toBe(0);
      const pids = new Set(racing.map((r) => cachePid(r.stdout)));
      expect(pids.size).toBe(1);
      const first = [...pids][0]!;
      expect(serving()).toEqual([first]);
      expect(b.hosts(NAME).length).toBe(1);

      // Run from another directory, it is the same daemon (the example pins its cwd).
      const elsewhere = await runProcess(argv[0]!, [...argv.slice(1), "get", "k0"], { cwd: "/", env, timeoutMs: 45_000 });
      expect(elsewhere.code, elsewhere.stderr).toBe(0);
      expect(cachePid(elsewhere.stdout)).toBe(first);

      // The library's status() is what `daemonctl status --json` says.
      const lib = JSON.parse((await mytool(["status"])).stdout);
      const cli = JSON.parse((await b.run(["status", NAME, "--json"])).stdout);
      for (const key of ["state", "pid", "pidIdentity", "identity", "socketPath", "child", "intent", "ready", "version", "protocolVersion"]) {
        expect(key in cli ? lib[key] : "absent", key).toEqual(key in cli ? cli[key] : "absent");
      }
      expect(cli.child.pid).toBe(first);

      // SIGKILL the host: the next call reclaims (the old cache is not left behind).
      const host1 = cli.pid as number;
      process.kill(host1, "SIGKILL");
      await waitFor(() => !alive(host1), 5_000, "the host to die");
      const afterKill = await mytool(["get", "x"]);
      expect(afterKill.code, afterKill.stderr).toBe(0);
      const second = cachePid(afterKill.stdout);
      expect(second).not.toBe(first);
      await waitFor(() => !alive(first), 5_000, "the orphaned cache to be reclaimed");
      expect(serving()).toEqual([second]);

      // SIGSTOP the host: frozen is not alive; the next call reclaims it too.
      const host2 = b.hosts(NAME)[0]!;
      process.kill(host2, "SIGSTOP");
      const afterStop = await mytool(["get", "y"]);
      expect(afterStop.code, afterStop.stderr).toBe(0);
      const third = cachePid(afterStop.stdout);
      expect(third).not.toBe(second);
      await waitFor(() => !alive(host2) && !alive(second), 10_000, "the frozen host and its cache to be gone");
      expect(serving()).toEqual([third]);
      expect(b.hosts(NAME).length).toBe(1);

      // The cache itself SIGKILLed: its host restarts it, and the next call is answered by the new one.
      process.kill(third, "SIGKILL");
      const afterChildKill = await mytool(["get", "y2"]);
      expect(afterChildKill.code, afterChildKill.stderr).toBe(0);
      const third2 = cachePid(afterChildKill.stdout);
      expect(third2).not.toBe(third);
      expect(serving()).toEqual([third2]);

      // The cache itself SIGSTOPped: alive to the kernel, useless to callers. The tool's request
      // times out, it restarts the daemon through the library, and the frozen process is killed.
      process.kill(third2, "SIGSTOP");
      const afterChildStop = await mytool(["get", "y3"]);
      expect(afterChildStop.code, afterChildStop.stderr).toBe(0);
      expect(afterChildStop.stderr).toContain("restarting it");
      const third3 = cachePid(afterChildStop.stdout);
      expect(third3).not.toBe(third2);
      await waitFor(() => !alive(third2), 10_000, "the frozen cache to be killed");
      expect(serving()).toEqual([third3]);

      // A changed definition (the TTL is in the daemon's env) replaces it.
      const changed = await mytool(["get", "z"], { MYTOOL_TTL: "61" });
      expect(changed.code, changed.stderr).toBe(0);
      const fourth = cachePid(changed.stdout);
      expect(fourth).not.toBe(third3);
      await waitFor(() => !alive(third3), 10_000, "the replaced cache to exit");
      expect(serving()).toEqual([fourth]);

      // An operator's stop sticks: the tool says so and starts nothing.
      expect((await b.run(["stop", NAME])).code).toBe(0);
      const refused = await mytool(["get", "w"], { MYTOOL_TTL: "61" });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain(`daemonctl start ${NAME}`);
      expect(serving()).toEqual([]);
      expect(b.hosts(NAME)).toEqual([]);
    }, 120_000);
  }
});
