#!/usr/bin/env bun
/**
 * daemonctl side by side with tini, dumb-init, supervisord and s6 (issue 19), in one run,
 * interleaved run by run so drifting machine load hits every tool alike. Installs nothing: a
 * tool that is not on PATH is skipped with a printed note (CI and bench machines get them from
 * apt: `apt-get install tini dumb-init supervisor s6`). Needs root for the PID 1 scenarios
 * (`unshare -fp`); prints one markdown table of medians at the end.
 *
 *   bun bench/compare.ts [--runs N] [--idle-seconds S] [--zombies N] [--only a,b,…]
 *
 * Scenarios: status (CLI status latency), start (start latency, no readiness wait), idle (CPU
 * ticks per 10 s and memory, 4 services; 1 child for the drop-ins), term (SIGTERM → exit, 4
 * cooperative children; 1 for the drop-ins), zombies (N orphaned zombies reaped as PID 1),
 * prefix (prefixed output through `supervise` with log files vs `cat | sed`), socket (control
 * socket, 32 clients), host (a standalone host's private memory).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { BIN, median, sleep, spawn, spawnSync, tempDir, ticks, timeOnce } from "./lib.ts";
import { socketThroughput } from "./socket.ts";
import type { ChildProcess } from "node:child_process";

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const onlyArg = argv.indexOf("--only");
const only = onlyArg >= 0 ? new Set(argv[onlyArg + 1]!.split(",")) : null;
const want = (k: string) => !only || only.has(k);
const RUNS = opt("runs", 15);
const IDLE_S = opt("idle-seconds", 30);
const ZOMBIES = opt("zombies", 10_000);

const have = (bin: string) => spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
const TOOLS = {
  tini: have("tini"),
  "dumb-init": have("dumb-init"),
  supervisord: have("supervisord") && have("supervisorctl"),
  s6: have("s6-svscan") && have("s6-svstat") && have("s6-svc"),
};
for (const [t, ok] of Object.entries(TOOLS)) if (!ok) console.error(`note: ${t} not found on PATH: skipped`);
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.error("note: not root: the PID 1 scenarios (unshare -fp) are skipped");

/** One table row per figure: scenario, tool, value, unit. */
const rows: { scenario: string; tool: string; value: string }[] = [];
const row = (scenario: string, tool: string, value: string) => {
  rows.push({ scenario, tool, value });
  console.error(`${scenario} | ${tool} | ${value}`);
};
const cleanups: (() => void)[] = [];
const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;

// ---------------------------------------------------------------- /proc readings

function memKiB(pid: number): { rss: number; priv: number } {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? 0);
    return { rss: get("Rss"), priv: get("Private_Clean") + get("Private_Dirty") };
  } catch {
    return { rss: 0, priv: 0 };
  }
}
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of spawnSync("ls", [`/proc/${pid}/task`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)) {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}
async function waitFor<T>(f: () => T | null | undefined | false, ms = 10_000, what = "condition"): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
const exitOf = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));

// ---------------------------------------------------------------- the contenders' set-ups

const SLEEP = ["sleep", "100000"];

function daemonctlEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, DAEMONCTL_RUNTIME_DIR: `${dir}/r`, DAEMONCTL_STATE_DIR: `${dir}/s`, NO_COLOR: "1" };
}

/** `daemonctl supervise` (config mode with `names`, else drop-in mode with `cmd`) as PID 1. */
async function daemonctlPid1(dir: string, names: string[], cmd: string[] = SLEEP): Promise<{ pid: number; outer: ChildProcess }> {
  mkdirSync(dir, { recursive: true });
  let args = ["supervise", "--", ...cmd];
  if (names.length) {
    writeFileSync(join(dir, "daemonctl.json"), JSON.stringify({ daemons: Object.fromEntries(names.map((n) => [n, { command: cmd }])) }));
    args = ["supervise"];
  }
  return pid1(["unshare", "-fp", "--mount-proc", BIN, ...args], dir, daemonctlEnv(dir));
}

/** Starts an init under `unshare -fp` (or any wrapper); resolves with the wrapped process's pid. */
async function pid1(cmd: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ pid: number; outer: ChildProcess }> {
  const outer = spawn(cmd[0]!, cmd.slice(1), { cwd, env, stdio: "ignore" });
  const pid = await waitFor(() => childrenOf(outer.pid!)[0], 10_000, `${cmd.join(" ")} to start`);
  cleanups.push(() => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  });
  return { pid, outer };
}

function supervisordConf(dir: string, programs: Record<string, { cmd: string; autostart?: boolean; log?: string }>): string {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, "supervisord.conf");
  const progs = Object.entries(programs)
    .map(([n, p]) => `[program:${n}]\ncommand=${p.cmd}\nautostart=${p.autostart !== false}\nstartsecs=0\nautorestart=false\nstopwaitsecs=10\n${p.log ? `stdout_logfile=${p.log}\nstdout_logfile_maxbytes=0\n` : ""}`)
    .join("\n");
  writeFileSync(
    conf,
    `[unix_http_server]\nfile=${dir}/supervisor.sock\n[supervisord]\nnodaemon=true\nlogfile=${dir}/supervisord.log\npidfile=${dir}/supervisord.pid\nchildlogdir=${dir}\n` +
      `[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[supervisorctl]\nserverurl=unix://${dir}/supervisor.sock\n${progs}`,
  );
  return conf;
}

async function startSupervisord(dir: string, programs: Parameters<typeof supervisordConf>[1], wantChildren: number): Promise<{ pid: number; proc: ChildProcess; conf: string }> {
  const conf = supervisordConf(dir, programs);
  const proc = spawn("supervisord", ["-c", conf], { cwd: dir, stdio: "ignore" });
  cleanups.push(() => proc.kill("SIGKILL"));
  await waitFor(() => existsSync(`${dir}/supervisor.sock`) && childrenOf(proc.pid!).length >= wantChildren, 15_000, "supervisord");
  return { pid: proc.pid!, proc, conf };
}

function s6Service(scan: string, name: string, cmd: string, down = false): string {
  const d = join(scan, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "run"), `#!/bin/sh\nexec ${cmd}\n`);
  chmodSync(join(d, "run"), 0o755);
  if (down) writeFileSync(join(d, "down"), "");
  return d;
}

/** s6-svscan on a scan directory; resolves once every service has its s6-supervise up. */
async function startS6(scan: string, services: number): Promise<{ pid: number; proc: ChildProcess }> {
  const proc = spawn("s6-svscan", [scan], { stdio: "ignore" });
  cleanups.push(() => {
    for (const c of childrenOf(proc.pid!)) {
      try {
        process.kill(c, "SIGKILL");
      } catch {
        // gone
      }
    }
    proc.kill("SIGKILL");
  });
  await waitFor(() => childrenOf(proc.pid!).length >= services, 10_000, "s6-supervise processes");
  // s6-supervise answers s6-svc -w only once its control fifo exists.
  await waitFor(() => spawnSync("sh", ["-c", `for d in ${scan}/*/; do [ -p "$d/supervise/control" ] || exit 1; done`]).status === 0, 10_000, "s6 control fifos");
  return { pid: proc.pid!, proc };
}

/** Whole process tree's ticks and memory (s6 is one svscan plus one supervise per service). */
function treeOf(pid: number, depth: number): number[] {
  if (depth === 0) return [pid];
  return [pid, ...childrenOf(pid).flatMap((c) => treeOf(c, depth - 1))];
}

// ---------------------------------------------------------------- scenarios

async function statusAndStart(): Promise<void> {
  const dir = tempDir("dct-cmp-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const env = daemonctlEnv(dir);
  spawnSync(BIN, ["start", "web", "-q", "--", ...SLEEP], { env });
  cleanups.push(() => spawnSync(BIN, ["stop", "--all", "-q"], { env }));

  const statusCmds: Record<string, () => number> = { daemonctl: () => timeOnce(BIN, ["status", "web"], env), "daemonctl --json": () => timeOnce(BIN, ["status", "web", "--json"], env) };
  const startCmds: Record<string, () => number> = {
    daemonctl: () => {
      const ms = timeOnce(BIN, ["start", "x", "-q", "--", ...SLEEP], env);
      spawnSync(BIN, ["stop", "x", "-q"], { env });
      return ms;
    },
  };
  if (TOOLS.supervisord) {
    const sd = await startSupervisord(join(dir, "sd"), { web: { cmd: SLEEP.join(" ") }, x: { cmd: SLEEP.join(" "), autostart: false } }, 1);
    statusCmds["supervisorctl status"] = () => timeOnce("supervisorctl", ["-c", sd.conf, "status", "web"]);
    startCmds["supervisorctl start"] = () => {
      const ms = timeOnce("supervisorctl", ["-c", sd.conf, "start", "x"]);
      spawnSync("supervisorctl", ["-c", sd.conf, "stop", "x"], { stdio: "ignore" });
      return ms;
    };
  }
  if (TOOLS.s6) {
    const scan = join(dir, "s6");
    s6Service(scan, "web", SLEEP.join(" "));
    const x = s6Service(scan, "x", SLEEP.join(" "), true);
    await startS6(scan, 2);
    statusCmds["s6-svstat"] = () => timeOnce("s6-svstat", [join(scan, "web")]);
    startCmds["s6-svc -wu -u"] = () => {
      const ms = timeOnce("s6-svc", ["-wu", "-u", x]);
      spawnSync("s6-svc", ["-wd", "-d", x], { stdio: "ignore" });
      return ms;
    };
  }
  for (const [scenario, cmds, runs] of [["status latency", statusCmds, RUNS * 4], ["start latency", startCmds, RUNS]] as const) {
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
    for (let i = 0; i < runs + 3; i++) for (const [k, f] of Object.entries(cmds)) {
      const ms = f();
      if (i >= 3) samples[k]!.push(ms);
    }
    for (const [k, v] of Object.entries(samples)) row(scenario, k, `${fmt(median(v))} median (${v.length} runs)`);
  }
}

/** Everybody idles in the same window: that is the fairest interleaving for an idle figure. */
async function idle(): Promise<void> {
  const dir = tempDir("dct-cmp-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const four = ["a", "b", "c", "d"];
  const subjects: { tool: string; pids: () => number[] }[] = [];
  if (isRoot) {
    const d = await daemonctlPid1(join(dir, "dct"), four);
    await waitFor(() => childrenOf(d.pid).length >= 4, 10_000, "4 daemons");
    subjects.push({ tool: "daemonctl supervise (4)", pids: () => [d.pid] });
    const d1 = await daemonctlPid1(join(dir, "dct1"), []);
    subjects.push({ tool: "daemonctl supervise -- (1)", pids: () => [d1.pid] });
    if (TOOLS.tini) {
      const t = await pid1(["unshare", "-fp", "--mount-proc", "tini", "--", ...SLEEP], dir);
      subjects.push({ tool: "tini (1)", pids: () => [t.pid] });
    }
    if (TOOLS["dumb-init"]) {
      const t = await pid1(["unshare", "-fp", "--mount-proc", "dumb-init", "--", ...SLEEP], dir);
      subjects.push({ tool: "dumb-init (1)", pids: () => [t.pid] });
    }
  }
  // Standalone hosts: one host process per daemon; the figure is the four hosts together.
  const env = daemonctlEnv(join(dir, "hosts"));
  for (const n of four) spawnSync(BIN, ["start", n, "-q", "--", ...SLEEP], { env });
  cleanups.push(() => spawnSync(BIN, ["stop", "--all", "-q"], { env }));
  const hostPids = four.map((n) => JSON.parse(readFileSync(join(dir, "hosts/r", `${n}.json`), "utf8")).pid as number);
  subjects.push({ tool: "daemonctl start ×4 (4 hosts)", pids: () => hostPids });
  if (TOOLS.supervisord) {
    const sd = await startSupervisord(join(dir, "sd"), Object.fromEntries(four.map((n) => [n, { cmd: SLEEP.join(" ") }])), 4);
    subjects.push({ tool: "supervisord (4)", pids: () => [sd.pid] });
  }
  if (TOOLS.s6) {
    const scan = join(dir, "s6");
    for (const n of four) s6Service(scan, n, SLEEP.join(" "));
    const s = await startS6(scan, 4);
    subjects.push({ tool: "s6-svscan + 4 s6-supervise", pids: () => treeOf(s.pid, 1) });
  }
  await sleep(3_000); // start-up work (and a post-boot GC) is not idle work
  const t0 = subjects.map((s) => s.pids().reduce((a, p) => a + ticks(p), 0));
  await sleep(IDLE_S * 1000);
  subjects.forEach((s, i) => {
    const pids = s.pids();
    const t = pids.reduce((a, p) => a + ticks(p), 0) - t0[i]!;
    const m = pids.map(memKiB).reduce((a, b) => ({ rss: a.rss + b.rss, priv: a.priv + b.priv }), { rss: 0, priv: 0 });
    row("idle, 4 services", s.tool, `${((t * 10) / IDLE_S).toFixed(2)} ticks/10 s, RSS ${(m.rss / 1024).toFixed(1)} MiB, private ${(m.priv / 1024).toFixed(1)} MiB`);
  });
  const host = memKiB(hostPids[0]!);
  row("standalone host memory", "daemonctl host (1)", `RSS ${(host.rss / 1024).toFixed(1)} MiB, private ${(host.priv / 1024).toFixed(1)} MiB`);
}

/** SIGTERM → exit: 4 cooperative children (sleep exits on TERM); the drop-ins run 1. */
async function term(): Promise<void> {
  const dir = tempDir("dct-cmp-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const four = ["a", "b", "c", "d"];
  type Up = { pid: number; exited: Promise<void> };
  const contenders: Record<string, (i: number) => Promise<Up>> = {};
  const underPid1 = async (cmd: string[], children: number, env?: NodeJS.ProcessEnv, cwd = dir): Promise<Up> => {
    const p = await pid1(cmd, cwd, env);
    await waitFor(() => childrenOf(p.pid).length >= children, 10_000, "children");
    return { pid: p.pid, exited: exitOf(p.outer) };
  };
  if (isRoot) {
    contenders["daemonctl supervise (4)"] = async (i) => {
      const d = join(dir, `dct${i}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, "daemonctl.json"), JSON.stringify({ daemons: Object.fromEntries(four.map((n) => [n, { command: SLEEP }])) }));
      return underPid1(["unshare", "-fp", "--mount-proc", BIN, "supervise"], 4, daemonctlEnv(d), d);
    };
    contenders["daemonctl supervise -- (1)"] = () => underPid1(["unshare", "-fp", "--mount-proc", BIN, "supervise", "--", ...SLEEP], 1, daemonctlEnv(join(dir, "dct1")));
    if (TOOLS.tini) contenders["tini (1)"] = () => underPid1(["unshare", "-fp", "--mount-proc", "tini", "--", ...SLEEP], 1);
    if (TOOLS["dumb-init"]) contenders["dumb-init (1)"] = () => underPid1(["unshare", "-fp", "--mount-proc", "dumb-init", "--", ...SLEEP], 1);
  }
  if (TOOLS.supervisord) {
    contenders["supervisord (4)"] = async (i) => {
      const sd = await startSupervisord(join(dir, `sd${i}`), Object.fromEntries(four.map((n) => [n, { cmd: SLEEP.join(" ") }])), 4);
      return { pid: sd.pid, exited: exitOf(sd.proc) };
    };
  }
  if (TOOLS.s6) {
    contenders["s6-svscan (4)"] = async (i) => {
      const scan = join(dir, `s6-${i}`);
      for (const n of four) s6Service(scan, n, SLEEP.join(" "));
      const s = await startS6(scan, 4);
      await waitFor(() => treeOf(s.pid, 2).length >= 9, 10_000, "s6 services");
      return { pid: s.pid, exited: exitOf(s.proc) };
    };
  }
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  const runs = Math.max(5, Math.round(RUNS / 2));
  for (let i = 0; i < runs; i++) {
    for (const [k, up] of Object.entries(contenders)) {
      const u = await up(i);
      await sleep(300);
      const t = performance.now();
      process.kill(u.pid, "SIGTERM");
      await Promise.race([u.exited, sleep(15_000)]);
      samples[k]!.push(performance.now() - t);
    }
  }
  for (const [k, v] of Object.entries(samples)) row("SIGTERM → exit", k, `${fmt(median(v))} median (${v.length} runs)`);
}

/**
 * N orphaned zombies reaped as PID 1. The init is stopped (SIGSTOP from outside its namespace)
 * while a workload makes N orphans that exit; the clock runs from SIGCONT until the namespace
 * holds no zombie. So the figure is the reaping alone, not the forking.
 */
async function zombies(): Promise<void> {
  if (!isRoot) return;
  const dir = tempDir("dct-cmp-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, "orphans.pl");
  writeFileSync(
    script,
    `use strict; use POSIX (); use Time::HiRes qw(time usleep);
my ($dir, $n) = @ARGV;
sub procs { opendir(my $d, "/proc") or die; my $c = grep { /^\\d+$/ } readdir $d; closedir $d; $c }
usleep(1000) until -e "$dir/stopped";
for (1..$n) { my $p = fork // die "fork: $!"; if ($p == 0) { fork; POSIX::_exit(0) } waitpid($p, 0) }
usleep(1000) until procs() >= $n + 2;
open(my $m, ">", "$dir/made") or die; close $m;
usleep(200) until procs() <= 2;
my $t = time; open(my $f, ">", "$dir/done.tmp") or die; print $f $t; close $f; rename("$dir/done.tmp", "$dir/done");
usleep(1000) until -e "$dir/finish";
`,
  );
  const inits: Record<string, string[]> = { "daemonctl supervise --": [BIN, "supervise", "--"] };
  if (TOOLS.tini) inits.tini = ["tini", "--"];
  if (TOOLS["dumb-init"]) inits["dumb-init"] = ["dumb-init", "--"];
  const samples: Record<string, { ms: number[]; ticks: number[] }> = Object.fromEntries(Object.keys(inits).map((k) => [k, { ms: [], ticks: [] }]));
  const runs = Math.max(3, Math.round(RUNS / 3));
  for (let i = 0; i < runs; i++) {
    for (const [k, init] of Object.entries(inits)) {
      const d = join(dir, `${i}-${k.replace(/\W/g, "_")}`);
      mkdirSync(d);
      const p = await pid1(["unshare", "-fp", "--mount-proc", ...init, "perl", script, d, String(ZOMBIES)], dir, daemonctlEnv(d));
      await waitFor(() => childrenOf(p.pid).length >= 1, 10_000, "workload");
      await sleep(200); // the init's own start-up settles before it is frozen
      process.kill(p.pid, "SIGSTOP");
      writeFileSync(join(d, "stopped"), "");
      await waitFor(() => existsSync(join(d, "made")), 120_000, "orphans");
      const t0 = ticks(p.pid);
      const start = performance.timeOrigin + performance.now();
      process.kill(p.pid, "SIGCONT");
      await waitFor(() => existsSync(join(d, "done")), 120_000, "reaping");
      samples[k]!.ms.push(Number(readFileSync(join(d, "done"), "utf8")) * 1000 - start);
      samples[k]!.ticks.push(ticks(p.pid) - t0);
      writeFileSync(join(d, "finish"), "");
      await exitOf(p.outer);
    }
  }
  for (const [k, v] of Object.entries(samples)) row(`${ZOMBIES} zombies reaped (PID 1)`, k, `${fmt(median(v.ms))} median, ${median(v.ticks)} CPU ticks (${v.ms.length} runs)`);
}

async function prefix(): Promise<void> {
  if (!isRoot) return;
  const dir = tempDir("dct-cmp-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const line = "2026-11-21T10:00:00.000Z INFO request handled path=/api/v1/items status=200 dur=3ms\n";
  const file = join(dir, "input.log");
  writeFileSync(file, line.repeat(Math.ceil((256 * 1024 * 1024) / line.length)));
  const mb = Number(spawnSync("stat", ["-c", "%s", file], { encoding: "utf8" }).stdout) / 1048576;
  const d = join(dir, "dct");
  mkdirSync(d);
  writeFileSync(join(d, "daemonctl.json"), JSON.stringify({ daemons: { x: { command: ["cat", file], restart: "no" } } }));
  const ours: number[] = [];
  const seds: number[] = [];
  for (let i = 0; i < Math.max(3, Math.round(RUNS / 3)); i++) {
    let t = performance.now();
    const outer = spawn("unshare", ["-fp", "--mount-proc", BIN, "supervise"], { cwd: d, env: daemonctlEnv(d), stdio: "ignore" });
    await exitOf(outer);
    ours.push(mb / ((performance.now() - t) / 1000));
    t = performance.now();
    spawnSync("sh", ["-c", `cat ${file} | sed 's/^/[x] /' > /dev/null`]);
    seds.push(mb / ((performance.now() - t) / 1000));
  }
  row("prefixed output", "daemonctl supervise (log file on)", `${Math.round(median(ours))} MB/s (${(median(ours) / median(seds)).toFixed(2)}× sed)`);
  row("prefixed output", "cat | sed 's/^/[x] /'", `${Math.round(median(seds))} MB/s`);
  row("prefixed output", "tini, dumb-init, supervisord, s6", "n/a: none prefixes lines");
}

async function socket(): Promise<void> {
  const dir = tempDir("dct-cmp-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const env = daemonctlEnv(dir);
  spawnSync(BIN, ["start", "web", "-q", "--", ...SLEEP], { env });
  cleanups.push(() => spawnSync(BIN, ["stop", "--all", "-q"], { env }));
  const rates: number[] = [];
  const p99s: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await socketThroughput(join(dir, "r/web.sock"), 32, 3000);
    rates.push(r.reqPerS);
    p99s.push(r.p99Ms);
  }
  row("control socket, 32 clients", "daemonctl host (status)", `${Math.round(median(rates))} req/s, p99 ${median(p99s).toFixed(2)} ms (3 runs of 3 s)`);
}

function versions(): string[] {
  const v = (cmd: string) => spawnSync("sh", ["-c", cmd], { encoding: "utf8" }).stdout.trim().split("\n")[0] ?? "";
  const out = [`daemonctl: ${v(`${BIN} --version`)}`];
  if (TOOLS.tini) out.push(`tini: ${v("tini --version")}`);
  if (TOOLS["dumb-init"]) out.push(`dumb-init: ${v("dumb-init --version 2>&1")}`);
  if (TOOLS.supervisord) out.push(`supervisord: ${v("supervisord --version")}`);
  if (TOOLS.s6) out.push(`s6: ${v("dpkg-query -W -f='${Version}' s6 2>/dev/null || echo unknown")}`);
  return out;
}

try {
  if (want("status") || want("start")) await statusAndStart();
  if (want("term")) await term();
  if (want("zombies")) await zombies();
  if (want("socket")) await socket();
  if (want("prefix")) await prefix();
  if (want("idle") || want("host")) await idle();
} finally {
  for (const c of cleanups.reverse()) c();
}

console.log(`| scenario | tool | median |\n| --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.scenario} | ${r.tool} | ${r.value} |`);
console.log(`\n${versions().join("; ")}`);
console.log(`machine: ${spawnSync("nproc", { encoding: "utf8" }).stdout.trim()} cores; ${spawnSync("uname", ["-a"], { encoding: "utf8" }).stdout.trim()}; ${new Date().toISOString()}`);
