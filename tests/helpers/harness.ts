/**
 * Test harness: run the compiled daemonctl as real processes in a private sandbox.
 *
 * Every sandbox has its own runtime and state directories. Cleanup kills, by pid, every process
 * whose environment names this sandbox's runtime directory (hosts and the daemons they started
 * inherit it), plus anything the test spawned directly. Nothing is ever killed by name.
 */
import { afterEach } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync } from "node:fs";
import { join, resolve } from "node:path";
import { createServer } from "node:net";

export const ROOT = resolve(import.meta.dir, "../..");
const BUILT = join(ROOT, "dist/daemonctl");

/**
 * The binary under test, copied to a world-readable place so unprivileged runs can execute it
 * even when the checkout lives under /root.
 */
export const BIN: string = (() => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` (npm test does it first)`);
  const dir = join("/tmp", `daemonctl-test-bin-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const bin = join(dir, "daemonctl");
  copyFileSync(BUILT, bin);
  chmodSync(bin, 0o755);
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return bin;
})();

export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  input?: string;
  /** Run as uid/gid 65534 through setpriv (the container exec-user case). */
  unprivileged?: boolean;
}

/** Polls `cond` until it returns a truthy value or the deadline passes (no fixed sleeps). */
export async function waitFor<T>(cond: () => T | Promise<T>, timeoutMs = 10_000, what = "condition", intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await cond();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** State letter of a process from /proc (Z = zombie), or null if there is no such pid. */
export function procState(pid: number): string | null {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, "latin1");
    return line.slice(line.lastIndexOf(")") + 2).split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

/** Alive = exists and is not a zombie (this sandbox's PID 1 does not reap). */
export function alive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  const s = procState(pid);
  return s !== null && s !== "Z" && s !== "X";
}

export function ppidOf(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(line.slice(line.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
  } catch {
    return [];
  }
}

export function allPids(): number[] {
  return readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number);
}

/**
 * A factory of sandboxes for one test file; every sandbox made during a test is cleaned up
 * (its processes killed by pid, its directory removed) after that test.
 */
export function sandboxes(): (opts?: { unprivileged?: boolean }) => Sandbox {
  let made: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(made.map((b) => b.cleanup()));
    made = [];
  });
  return (opts) => {
    const box = new Sandbox(opts);
    made.push(box);
    return box;
  };
}

export class Sandbox {
  readonly dir: string;
  readonly runtimeDir: string;
  readonly stateDir: string;
  private readonly spawned = new Set<ChildProcess>();
  private readonly extraPids = new Set<number>();

  constructor(opts: { unprivileged?: boolean } = {}) {
    this.dir = mkdtempSync("/tmp/dct-");
    chmodSync(this.dir, 0o755);
    if (opts.unprivileged && isRoot) chownSync(this.dir, NOBODY, NOBODY);
    this.runtimeDir = join(this.dir, "r");
    this.stateDir = join(this.dir, "s");
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string> {
    const base: Record<string, string | undefined> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: this.dir,
      DAEMONCTL_RUNTIME_DIR: this.runtimeDir,
      DAEMONCTL_STATE_DIR: this.stateDir,
      NO_COLOR: "1",
      ...extra,
    };
    return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>;
  }

  private argv(args: string[], o: RunOptions): [string, string[]] {
    if (o.unprivileged && isRoot) return ["setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", BIN, ...args]];
    return [BIN, args];
  }

  /** Runs daemonctl to completion. */
  run(args: string[], o: RunOptions = {}): Promise<RunResult> {
    const [cmd, argv] = this.argv(args, o);
    return runProcess(cmd, argv, { ...o, cwd: o.cwd ?? this.cwdFor(o), env: this.env(o.env) }, this.spawned);
  }

  /**
   * uid 65534 runs in the sandbox, not in the checkout: the checkout's parent may be closed to
   * it (a home directory), and then `./daemonctl.json` cannot even be looked for, and a daemon
   * could not be spawned in a directory it cannot enter.
   */
  cwdFor(o: RunOptions): string | undefined {
    return o.unprivileged && isRoot ? this.dir : undefined;
  }

  /** Starts daemonctl without waiting (a foreground host, `supervise`…). */
  spawn(args: string[], o: RunOptions & { stdio?: "pipe" | "ignore" } = {}): Proc {
    const [cmd, argv] = this.argv(args, o);
    const child = spawn(cmd, argv, { cwd: o.cwd ?? this.dir, env: this.env(o.env), stdio: ["ignore", o.stdio ?? "pipe", o.stdio ?? "pipe"] });
    this.spawned.add(child);
    return new Proc(child);
  }

  /** Any other process a test starts (say, an unrelated `sleep`), killed at cleanup. */
  spawnOther(cmd: string, args: string[]): ChildProcess {
    const child = spawn(cmd, args, { stdio: "ignore", cwd: this.dir });
    this.spawned.add(child);
    return child;
  }

  track(pid: number): void {
    this.extraPids.add(pid);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  readJson(path: string): any {
    try {
      return JSON.parse(readFileSync(path, "utf8"));
    } catch {
      return null;
    }
  }

  metadata(name: string): any {
    return this.readJson(join(this.runtimeDir, `${name}.json`));
  }

  state(name: string): any {
    return this.readJson(join(this.stateDir, `${name}.state.json`));
  }

  /** Live (non-zombie) processes belonging to this sandbox: env names our runtime dir. */
  processes(): Array<{ pid: number; argv: string[] }> {
    const marker = `DAEMONCTL_RUNTIME_DIR=${this.runtimeDir}`;
    const out: Array<{ pid: number; argv: string[] }> = [];
    for (const pid of allPids()) {
      if (pid === process.pid || !alive(pid)) continue;
      if (environ(pid).includes(marker)) out.push({ pid, argv: cmdline(pid) });
    }
    return out;
  }

  /** Live daemonctl host processes (detached `__host` or `start --foreground`) for `name`. */
  hosts(name: string): number[] {
    return this.processes()
      .filter((p) => p.argv.some((a) => a.endsWith("daemonctl")) && p.argv.includes(name) && (p.argv.includes("__host") || p.argv.includes("--foreground")))
      .map((p) => p.pid);
  }

  /** Live processes whose argv matches exactly (the daemon's command). */
  children(argv: string[]): number[] {
    return this.processes().filter((p) => p.argv.join("\0") === argv.join("\0")).map((p) => p.pid);
  }

  async cleanup(): Promise<void> {
    const pids = new Set<number>(this.extraPids);
    for (const c of this.spawned) if (c.pid && c.exitCode === null && c.signalCode === null) pids.add(c.pid);
    // A host may spawn its child between the scan and the kill (a test that ends right after a
    // `start --no-wait`): scan again until a round finds nothing new, so no child is orphaned.
    for (let round = 0; round < 5; round++) {
      const found = this.processes().map((p) => p.pid).filter((p) => !pids.has(p) || alive(p));
      for (const pid of found) pids.add(pid);
      if (round > 0 && found.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGCONT");
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await waitFor(() => [...pids].every((p) => !alive(p)), 5_000, "sandbox processes to die").catch(() => {});
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A running process with captured output. */
export class Proc {
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => (this.stdout += d.toString("utf8")));
    child.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString("utf8")));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  kill(sig: NodeJS.Signals | number): void {
    try {
      process.kill(this.pid, sig);
    } catch {
      // gone
    }
  }

  async waitExit(timeoutMs = 15_000): Promise<{ code: number | null; signal: string | null }> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`pid ${this.pid} did not exit within ${timeoutMs} ms\nstdout:${this.stdout}\nstderr:${this.stderr}`)), timeoutMs)),
    ]);
  }
}

export function runProcess(cmd: string, args: string[], o: RunOptions, track?: Set<ChildProcess>): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env as NodeJS.ProcessEnv, stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    track?.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    if (o.input !== undefined) child.stdin!.end(o.input);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} did not finish within ${o.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, o.timeoutMs ?? 30_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      track?.delete(child);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Parses stdout as exactly one JSON document (fails the test otherwise). */
export function json(r: RunResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** Can this machine make PID namespaces (`unshare -fp`)? Reason when not. */
export async function unshareProblem(): Promise<string | null> {
  if (!isRoot) return "unshare -fp needs root";
  const r = await runProcess("unshare", ["-fp", "--mount-proc", "true"], { env: process.env as Record<string, string>, timeoutMs: 5_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }) as RunResult);
  return r.code === 0 ? null : `unshare -fp --mount-proc is not permitted here: ${r.stderr.trim()}`;
}

/** Can we drop to uid 65534 with setpriv? Reason when not. */
export async function setprivProblem(): Promise<string | null> {
  if (!isRoot) return "dropping privileges needs root";
  const r = await runProcess("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "true"], { cwd: "/", env: process.env as Record<string, string>, timeoutMs: 5_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }) as RunResult);
  return r.code === 0 ? null : `setpriv is not usable here: ${r.stderr.trim()}`;
}

/**
 * `daemonctl supervise …` as PID 1 of a new PID namespace (`unshare -fp --mount-proc`). Commands
 * run inside it with `nsenter -t PID -p -m` (pids in status answers are namespace-local).
 */
export class Namespace {
  private constructor(
    private readonly box: Sandbox,
    readonly proc: Proc,
    /** The supervisor's pid as seen from outside the namespace. */
    readonly pid: number,
  ) {}

  static async start(box: Sandbox, args: string[], o: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<Namespace> {
    const child = spawn("unshare", ["-fp", "--mount-proc", BIN, ...args], { cwd: o.cwd ?? box.dir, env: box.env(o.env), stdio: ["ignore", "pipe", "pipe"] });
    (box as unknown as { spawned: Set<ChildProcess> }).spawned.add(child);
    const proc = new Proc(child);
    const pid = await waitFor(() => {
      try {
        const kids = readdirSync(`/proc/${child.pid}/task`).flatMap((t) => readFileSync(`/proc/${child.pid}/task/${t}/children`, "latin1").split(" ").filter(Boolean).map(Number));
        return kids[0] ?? null;
      } catch {
        return null;
      }
    }, 5_000, "the namespace's PID 1");
    box.track(pid);
    return new Namespace(box, proc, pid);
  }

  /** Runs daemonctl inside the namespace (optionally as uid 65534). */
  run(args: string[], o: RunOptions = {}): Promise<RunResult> {
    const inner = o.unprivileged && isRoot ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", BIN, ...args] : [BIN, ...args];
    return runProcess("nsenter", ["-t", String(this.pid), "-p", "-m", ...inner], { ...o, cwd: o.cwd ?? this.box.cwdFor(o), env: this.box.env(o.env) });
  }

  /** Any command inside the namespace. */
  sh(script: string): Promise<RunResult> {
    return runProcess("nsenter", ["-t", String(this.pid), "-p", "-m", "sh", "-c", script], { env: this.box.env() });
  }

  kill(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid, sig);
    } catch {
      // gone
    }
  }

  /** Children of the supervisor (alive or zombie) running exactly `argv`, seen from outside. */
  childrenRunning(argv: string[]): number[] {
    return allPids().filter((p) => ppidOf(p) === this.pid && cmdline(p).join(" ") === argv.join(" "));
  }

  /** Zombie children of the supervisor, seen from outside. */
  zombies(): number[] {
    return allPids().filter((p) => procState(p) === "Z" && ppidOf(p) === this.pid);
  }

  waitExit(timeoutMs?: number) {
    return this.proc.waitExit(timeoutMs);
  }
}
