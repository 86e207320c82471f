/**
 * Readiness (`ready` in docs/configuration.md#daemon-definition-keys): when is a freshly spawned
 * child actually serving?
 *
 * none (alive after 100 ms) · tcp:HOST:PORT · unix:PATH · log:REGEX · exec:COMMAND · delay:D.
 * A check only ever reports "ready"; giving up is the runner's `readyTimeout`.
 */
import { connect } from "node:net";
import { parseDuration } from "../../schema/common.ts";
import { spawnManaged } from "../../platform/spawn.ts";

export interface ReadinessContext {
  isAlive(): boolean;
  onReady(): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface ReadinessCheck {
  /** Set for `log:` checks: feed it every output line until ready. */
  onLine: ((line: string) => void) | null;
  cancel(): void;
}

export const NONE_SETTLE_MS = 100;

export function startReadiness(spec: string, ctx: ReadinessContext): ReadinessCheck {
  let done = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const cleanups = new Set<() => void>();
  const check: ReadinessCheck = {
    onLine: null,
    cancel() {
      done = true;
      for (const t of timers) clearTimeout(t);
      for (const c of cleanups) c();
      timers.clear();
      cleanups.clear();
    },
  };
  const ready = () => {
    if (done) return;
    if (!ctx.isAlive()) return;
    check.cancel();
    ctx.onReady();
  };
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!done) fn();
    }, ms);
    timers.add(t);
  };

  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? "" : spec.slice(colon + 1);

  switch (kind) {
    case "tcp": {
      const sep = arg.lastIndexOf(":");
      const host = arg.slice(0, sep).replace(/^\[|\]$/g, "");
      const port = Number(arg.slice(sep + 1));
      pollConnect(() => connect({ host, port }));
      break;
    }
    case "unix":
      pollConnect(() => connect(arg));
      break;
    case "log": {
      const re = new RegExp(arg);
      check.onLine = (line) => {
        if (re.test(line)) ready();
      };
      break;
    }
    case "exec":
      pollExec(arg);
      break;
    case "delay":
      later(parseDuration(arg) ?? 0, ready);
      break;
    default:
      later(NONE_SETTLE_MS, ready);
  }
  return check;

  function pollConnect(open: () => import("node:net").Socket, delay = 20): void {
    const sock = open();
    const cleanup = () => sock.destroy();
    cleanups.add(cleanup);
    sock.setTimeout(1000);
    sock.once("connect", () => {
      cleanups.delete(cleanup);
      sock.destroy();
      ready();
    });
    const retry = () => {
      cleanups.delete(cleanup);
      sock.destroy();
      later(delay, () => pollConnect(open, Math.min(delay * 2, 250)));
    };
    sock.once("error", retry);
    sock.once("timeout", retry);
  }

  function pollExec(command: string): void {
    const child = spawnManaged("/bin/sh", ["-c", command], { cwd: ctx.cwd, env: ctx.env, stdio: "ignore" });
    const kill = () => child.kill("SIGKILL");
    cleanups.add(kill);
    child.once("error", () => {
      cleanups.delete(kill);
      later(250, () => pollExec(command));
    });
    child.once("exit", (code) => {
      cleanups.delete(kill);
      if (code === 0) ready();
      else later(250, () => pollExec(command));
    });
  }
}
