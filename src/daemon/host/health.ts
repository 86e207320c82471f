/**
 * Health checks (`health` in docs/lifecycle.md#health-checks): is a ready daemon still serving?
 *
 * One HealthMonitor per ready child. Checks run one at a time: the next one is scheduled only
 * when the last one has ended, `interval` later, so a slow check can never overlap the next or
 * let them pile up. While a check is out nothing else is pending; between checks, one timer.
 */
import { tcpTarget } from "./readiness.ts";
import { timerDelay } from "../../poll.ts";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import type { HealthState } from "../../schema/constants.ts";
import type { HealthSpec } from "../../schema/definition.ts";
import { spawnManaged } from "../../platform/spawn.ts";
import { signalOwnGroup } from "../../platform/identity.ts";
import { formatDuration } from "../../schema/units.ts";
import { outputDrained } from "./launch.ts";

/** What `status` shows of the last check (docs/status.md: output trimmed to 1 KiB). */
export interface HealthCheckResult {
  at: string;
  healthy: boolean;
  output: string;
  failures: number;
}

export const MAX_CHECK_OUTPUT = 1024;

export interface HealthContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** When the child was spawned: `startPeriod` counts from there, as Docker's does. */
  spawnedAtMs: number;
}

export interface HealthHooks {
  /** A check ended; `last` and `state` are up to date. */
  checked(result: HealthCheckResult): void;
  /** `retries` failures in a row (once per fall). */
  unhealthy(output: string): void;
  /** A check passed after the daemon was unhealthy. */
  healthy(): void;
}

interface Outcome {
  healthy: boolean;
  output: string;
}

/** A check in progress: `cancel` drops it (its process or socket) without reporting. */
type Cancel = () => void;

export class HealthMonitor {
  state: HealthState = "starting";
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Cancel | null = null;
  private stopped = false;

  constructor(
    private readonly spec: HealthSpec,
    private readonly ctx: HealthContext,
    private readonly hooks: HealthHooks,
  ) {}

  /** The first check runs at once: the child has just become ready. */
  begin(): void {
    this.runCheck();
  }

  /** The child stopped or exited: nothing more runs or reports. */
  end(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.();
    this.inFlight = null;
  }

  private runCheck(): void {
    this.timer = null;
    if (this.stopped) return;
    this.inFlight = startCheck(this.spec.check, this.spec.timeout, this.ctx, (outcome) => {
      this.inFlight = null;
      if (this.stopped) return;
      this.record(outcome);
      if (this.stopped) return; // a hook may have stopped the child
      this.timer = setTimeout(() => this.runCheck(), timerDelay(this.spec.interval));
    });
  }

  private record(outcome: Outcome): void {
    const inStartPeriod = Date.now() - this.ctx.spawnedAtMs < this.spec.startPeriod;
    const wasUnhealthy = this.state === "unhealthy";
    if (outcome.healthy) {
      this.failures = 0;
      this.state = "healthy";
    } else if (!inStartPeriod) {
      this.failures++;
    }
    const result: HealthCheckResult = { at: new Date().toISOString(), healthy: outcome.healthy, output: trimOutput(outcome.output), failures: this.failures };
    const fell = !outcome.healthy && this.failures >= this.spec.retries && !wasUnhealthy;
    if (fell) this.state = "unhealthy";
    this.hooks.checked(result);
    if (fell) this.hooks.unhealthy(result.output);
    else if (outcome.healthy && wasUnhealthy) this.hooks.healthy();
  }
}

/** The first 1 KiB (of UTF-8), without a trailing newline. */
export function trimOutput(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  const cut = bytes.length > MAX_CHECK_OUTPUT ? bytes.subarray(0, MAX_CHECK_OUTPUT).toString("utf8").replace(/\uFFFD$/, "") : text;
  return cut.replace(/\s+$/, "");
}

/** Runs one check; `done` is called exactly once unless the returned cancel comes first. */
export function startCheck(check: string, timeoutMs: number, ctx: HealthContext, done: (o: Outcome) => void): Cancel {
  let over = false;
  const finish = (o: Outcome) => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    cleanup();
    done(o);
  };
  let cleanup: () => void = () => {};
  const timer = setTimeout(() => {
    if (over) return;
    over = true;
    cleanup();
    done({ healthy: false, output: `timed out after ${formatDuration(timeoutMs)}` + timeoutSuffix() });
  }, timerDelay(timeoutMs));
  let timeoutSuffix = () => "";
  try {
    if (check.startsWith("http://")) cleanup = httpCheck(check, finish);
    else if (check.startsWith("tcp:")) cleanup = connectCheck(tcpTarget(check.slice(4)), finish);
    else if (check.startsWith("unix:")) cleanup = connectCheck({ path: check.slice(5) }, finish);
    else if (check.startsWith("exec:")) {
      const run = execCheck(check.slice(5), ctx, finish);
      cleanup = run.kill;
      timeoutSuffix = () => (run.output() ? `: ${run.output()}` : "");
    } else finish({ healthy: false, output: `unknown health check ${check}` });
  } catch (e) {
    finish({ healthy: false, output: (e as Error).message });
  }
  return () => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    cleanup();
  };
}

function connectCheck(target: { host: string; port: number } | { path: string }, finish: (o: Outcome) => void): () => void {
  const where = "path" in target ? target.path : `${target.host}:${target.port}`;
  const sock: Socket = connect(target);
  sock.once("connect", () => finish({ healthy: true, output: `connected to ${where}` }));
  sock.once("error", (e) => finish({ healthy: false, output: e.message }));
  return () => sock.destroy();
}

/** GET; 2xx and 3xx are healthy. The output is the status line and the start of the body. */
function httpCheck(url: string, finish: (o: Outcome) => void): () => void {
  // No keep-alive agent: a connection left open between checks would be a cost while idle.
  const req = request(url, { method: "GET", agent: false, headers: { "user-agent": "daemonctl-health", connection: "close" } });
  req.once("response", (res) => {
    const code = res.statusCode ?? 0;
    const chunks: Buffer[] = [];
    let size = 0;
    const report = () => {
      const body = Buffer.concat(chunks).toString("utf8");
      finish({ healthy: code >= 200 && code < 400, output: `HTTP ${code}${res.statusMessage ? ` ${res.statusMessage}` : ""}${body.trim() ? `: ${body}` : ""}` });
    };
    res.on("data", (c: Buffer) => {
      if (size >= MAX_CHECK_OUTPUT) return;
      chunks.push(c);
      size += c.length;
      // Enough to report: no need to read a large body to the end.
      if (size >= MAX_CHECK_OUTPUT) {
        report();
        res.destroy();
      }
    });
    res.once("end", report);
    res.once("error", report);
  });
  req.once("error", (e) => finish({ healthy: false, output: e.message }));
  req.end();
  return () => req.destroy();
}

/**
 * `/bin/sh -c COMMAND` in its own process group, so a check that hangs (and whatever it started)
 * is killed whole at the timeout. stdout and stderr together, the first 1 KiB kept.
 */
function execCheck(command: string, ctx: HealthContext, finish: (o: Outcome) => void): { kill: () => void; output: () => string } {
  const child = spawnManaged("/bin/sh", ["-c", command], { cwd: ctx.cwd, env: ctx.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = (c: Buffer) => {
    if (size >= MAX_CHECK_OUTPUT) return;
    chunks.push(c);
    size += c.length;
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const output = () => Buffer.concat(chunks).toString("utf8");
  const pid = child.pid;
  let exited = false;
  child.once("error", (e) => {
    if (pid === undefined) finish({ healthy: false, output: `cannot run /bin/sh: ${e.message}` });
  });
  child.once("exit", (code, signal) => {
    exited = true;
    // Leftovers of the check (`cmd &`) go with it, as a daemon's do: checks must not accumulate.
    if (pid !== undefined) signalOwnGroup(pid, "SIGKILL");
    // The drained pipes have the whole output, but a check is not held up long for it.
    void outputDrained(child, 100).then(() => finish({ healthy: code === 0, output: output() || (signal ? `killed by ${signal}` : `exit code ${code}`) }));
  });
  return {
    kill: () => {
      if (pid !== undefined && !exited) signalOwnGroup(pid, "SIGKILL");
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
    output: () => trimOutput(output()),
  };
}
