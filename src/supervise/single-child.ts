/**
 * `daemonctl supervise [--single-child] [--rewrite S:D]… -- CMD ARGS`: a drop-in for tini and
 * dumb-init (SPEC §7).
 *
 * The child runs in its own session and process group with our stdio untouched. Every catchable
 * signal is forwarded (after rewriting) to that group, or with --single-child to the child only;
 * forwarding never starts a shutdown of our own. When the child exits, the rest of its group gets
 * SIGTERM and we exit with the child's code (128+N for a death by signal N).
 */
import { loadLibc } from "../platform/ffi.ts";
import { canHandle, onSignal, sendSignal } from "../platform/signals.ts";
import { spawnManaged } from "../platform/spawn.ts";
import { SIGNAL_NAMES, normalizeSignal, signalNumber, type SignalName } from "../schema/units.ts";
import type { Logger } from "../daemon/host.ts";
import { Reaper } from "./reaper.ts";

export interface SingleChildOptions {
  command: string[];
  /** Signal the child only, and leave its group alone when it exits. */
  singleChild: boolean;
  /** Signal number → replacement number; 0 drops the signal. */
  rewrite: Map<number, number>;
  /** SIGKILL the group this long after a terminating signal; null = never (tini's default). */
  graceMs: number | null;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

const NOT_FORWARDED = new Set<SignalName>(["SIGKILL", "SIGSTOP", "SIGCHLD"]);
const TERMINATING = new Set<SignalName>(["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]);

/** Parses `--rewrite 15:3` or `TERM:QUIT` (a destination of 0 drops the signal). */
export function parseRewrite(spec: string): [number, number] | null {
  const m = /^([^:]+):([^:]+)$/.exec(spec.trim());
  if (!m) return null;
  const from = normalizeSignal(m[1]!);
  const to = m[2] === "0" ? 0 : normalizeSignal(m[2]!);
  if (!from || to === null) return null;
  return [signalNumber(from), to === 0 ? 0 : signalNumber(to)];
}

export async function runSingleChild(o: SingleChildOptions): Promise<number> {
  const reaper = new Reaper();
  const note = await reaper.start();
  if (note) o.log.warn(note);
  const libc = await loadLibc();

  const [file, ...args] = o.command;
  let child;
  try {
    child = spawnManaged(file!, args, { stdio: "inherit", detached: true, env: o.env });
  } catch (e) {
    return spawnFailure(o, file!, e as NodeJS.ErrnoException);
  }
  const pid = child.pid;
  const exited = new Promise<number>((resolve) => {
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined || e.code === "ENOENT" || e.code === "EACCES") resolve(spawnFailure(o, file!, e));
    });
    child.once("exit", (code, signal) => resolve(code ?? 128 + signalNumber((signal ?? "SIGKILL") as SignalName)));
  });

  let graceTimer: ReturnType<typeof setTimeout> | null = null;
  const target = () => (o.singleChild ? pid! : -pid!);
  const forward = (sig: SignalName) => {
    if (pid === undefined) return;
    const to = o.rewrite.get(signalNumber(sig)) ?? signalNumber(sig);
    if (to === 0) return;
    const name = SIGNAL_NAMES[to - 1]!;
    sendSignal(target(), name);
    if (o.graceMs !== null && TERMINATING.has(name) && !graceTimer) {
      graceTimer = setTimeout(() => {
        o.log.warn(`${file} still running ${o.graceMs} ms after ${name}; sending SIGKILL`);
        sendSignal(target(), "SIGKILL");
      }, o.graceMs);
      graceTimer.unref?.();
    }
  };
  for (const sig of SIGNAL_NAMES) {
    if (NOT_FORWARDED.has(sig)) continue;
    if (canHandle(sig)) onSignal(sig, forward);
    else if (libc && (sig === "SIGSTKFLT" || sig === "SIGPWR")) {
      // The runtime cannot hand these to JavaScript; ignoring beats being killed by them.
      libc.ignoreSignal(signalNumber(sig));
    }
  }

  const code = await exited;
  if (graceTimer) clearTimeout(graceTimer);
  // Background jobs of the child's group would otherwise outlive it (and, as PID 1, be killed
  // with SIGKILL when the namespace ends). Give them a SIGTERM first.
  if (!o.singleChild && pid !== undefined) sendSignal(-pid, "SIGTERM");
  reaper.sweep();
  reaper.stop();
  return code;
}

function spawnFailure(o: SingleChildOptions, file: string, e: NodeJS.ErrnoException): number {
  if (e.code === "ENOENT") {
    o.log.error(`${file}: command not found`);
    return 127;
  }
  o.log.error(`${file}: cannot execute: ${e.code === "EACCES" ? "permission denied (not executable?)" : e.message}`);
  return 126;
}
