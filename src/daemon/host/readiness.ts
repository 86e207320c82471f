/**
 * Readiness (`ready` in docs/configuration.md#daemon-definition-keys): when is a freshly spawned
 * child actually serving?
 *
 * none (the command was executed: the spawn succeeded) · notify (the runner calls `ready()` on READY=1) · fd:N ·
 * tcp:HOST:PORT · unix:PATH · log:REGEX · exec:COMMAND · delay:D.
 * A check only ever reports "ready"; giving up is the runner's `readyTimeout`.
 */
import { timerDelay } from "../../poll.ts";
import { connect, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { parseDuration } from "../../schema/common.ts";
import { spawnManaged } from "../../platform/spawn.ts";

export interface ReadinessContext {
  isAlive(): boolean;
  onReady(): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** For `fd:N`: our end of the pipe the child has as fd N. */
  readyPipe?: Readable | null;
  /**
   * Calls `fn` once the command has been executed. node:child_process's 'spawn' event is that
   * proof in Bun, Deno and Node alike: a failed exec (ENOENT, EACCES, a bad working directory)
   * leaves `pid` undefined and emits 'error' instead, never 'spawn' (docs/platform-notes.md).
   */
  whenExecuted(fn: () => void): void;
}

export interface ReadinessCheck {
  /** Set for `log:` checks: feed it every output line until ready. */
  onLine: ((line: string) => void) | null;
  /** Ready now (`notify`: the runner got READY=1). */
  ready(): void;
  cancel(): void;
}

export function startReadiness(spec: string, ctx: ReadinessContext): ReadinessCheck {
  const run = new ReadinessRun(ctx);
  const [kind, arg] = splitSpec(spec);
  switch (kind) {
    case "tcp":
      pollConnect(run, tcpConnector(arg));
      break;
    case "unix":
      pollConnect(run, () => connect(arg));
      break;
    case "log":
      run.onLine = lineMatcher(run, new RegExp(arg));
      break;
    case "exec":
      pollExec(run, arg);
      break;
    case "delay":
      run.later(parseDuration(arg) ?? 0, () => run.ready());
      break;
    case "notify":
      break;
    case "fd":
      watchPipe(run, ctx.readyPipe ?? null);
      break;
    default:
      // `none` is systemd's Type=exec: ready as soon as the command runs. `delay:100ms` is the
      // old "still alive after 100 ms".
      ctx.whenExecuted(() => run.ready());
  }
  return run;
}

/** `KIND:ARG` → [KIND, ARG]; a bare `none` has no argument. */
function splitSpec(spec: string): [kind: string, arg: string] {
  const colon = spec.indexOf(":");
  return colon < 0 ? [spec, ""] : [spec.slice(0, colon), spec.slice(colon + 1)];
}

/** One check in progress: the timers and probes it has pending, all dropped once it is over. */
class ReadinessRun implements ReadinessCheck {
  onLine: ((line: string) => void) | null = null;
  private done = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly cleanups = new Set<() => void>();

  constructor(readonly ctx: ReadinessContext) {}

  cancel(): void {
    this.done = true;
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.cleanups) c();
    this.timers.clear();
    this.cleanups.clear();
  }

  /** Once, and only while the child is still the one starting: a probe may answer after it died. */
  ready(): void {
    if (this.done) return;
    if (!this.ctx.isAlive()) return;
    this.cancel();
    this.ctx.onReady();
  }

  /** Runs `fn` after `ms`, unless the check is over by then. */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.done) fn();
    }, timerDelay(ms));
    this.timers.add(t);
  }

  /** Keeps `cleanup` to run if the check ends while a probe is out; returns what forgets it. */
  hold(cleanup: () => void): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }
}

/** `HOST:PORT`; the host may be a bracketed IPv6 address (`[::1]:8080`). Health checks use it too. */
export function tcpTarget(arg: string): { host: string; port: number } {
  const sep = arg.lastIndexOf(":");
  return { host: arg.slice(0, sep).replace(/^\[|\]$/g, ""), port: Number(arg.slice(sep + 1)) };
}

function tcpConnector(arg: string): () => Socket {
  const target = tcpTarget(arg);
  return () => connect(target);
}

function lineMatcher(run: ReadinessRun, re: RegExp): (line: string) => void {
  return (line) => {
    if (re.test(line)) run.ready();
  };
}

/** Connects until one connection succeeds, backing off from 20 ms to 250 ms between attempts. */
function pollConnect(run: ReadinessRun, open: () => Socket, delay = 20): void {
  const sock = open();
  const forget = run.hold(() => sock.destroy());
  // An unanswered SYN (a firewall that drops it) would otherwise wait out the kernel's connect
  // timeout, minutes; a fresh attempt is cheap.
  sock.setTimeout(1000);
  sock.once("connect", () => {
    forget();
    sock.destroy();
    run.ready();
  });
  const retry = () => {
    forget();
    sock.destroy();
    run.later(delay, () => pollConnect(run, open, Math.min(delay * 2, 250)));
  };
  sock.once("error", retry);
  sock.once("timeout", retry);
}

/** Runs the command every 250 ms until it exits 0. */
function pollExec(run: ReadinessRun, command: string): void {
  const child = spawnManaged("/bin/sh", ["-c", command], { cwd: run.ctx.cwd, env: run.ctx.env, stdio: "ignore" });
  const forget = run.hold(() => child.kill("SIGKILL"));
  child.once("error", () => {
    forget();
    run.later(250, () => pollExec(run, command));
  });
  child.once("exit", (code) => {
    forget();
    if (code === 0) run.ready();
    else run.later(250, () => pollExec(run, command));
  });
}

/** s6's notification-fd: ready at the first newline; our end is closed then (or when the check ends). */
function watchPipe(run: ReadinessRun, pipe: Readable | null): void {
  if (!pipe) return;
  const done = () => pipe.destroy();
  run.hold(done);
  pipe.on("error", () => {});
  pipe.on("data", (chunk: Uint8Array) => {
    if (!chunk.includes(10)) return;
    done();
    run.ready();
  });
}
