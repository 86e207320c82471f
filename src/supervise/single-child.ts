/**
 * `daemonctl supervise [flags] -- CMD ARGS`: a drop-in for tini and dumb-init
 * (docs/containers.md#single-child-mode-replacing-tini-or-dumb-init).
 *
 * By default the child runs in its own session and process group (dumb-init's setsid mode) and
 * every catchable signal is forwarded to that group; with --single-child (dumb-init -c) it
 * stays in our session and group and signals go to the child only. Signals come through the
 * signal trap, armed before anything else (platform/signals.ts), so none crashes us and none
 * sent while we start is lost. Forwarding never starts a shutdown of our own. When the child
 * exits, the rest of its group gets SIGTERM (not with --single-child) and we exit with the
 * child's code (128+N for a death by signal N).
 */
import { armSignals, FORWARDABLE, sendSignal, type SignalSource } from "../platform/signals.ts";
import { listPids, readProcStat } from "../platform/proc.ts";
import { spawnManaged } from "../platform/spawn.ts";
import { formatDuration, SIGNAL_NAMES, normalizeSignal, signalNumber, type SignalName } from "../schema/units.ts";
import type { Logger } from "../logger.ts";
import { pollUntil } from "../poll.ts";
import { Reaper, takeInitDuties } from "./reaper.ts";

export interface SingleChildOptions {
  command: string[];
  /** dumb-init -c: no new session; signal the child only, and leave its group alone when it exits. */
  singleChild: boolean;
  /** Signal number → replacement number; 0 drops the signal. */
  rewrite: Map<number, number>;
  /** SIGKILL the group this long after a terminating signal; null = never (tini's default). */
  graceMs: number | null;
  /** Exit codes of the child reported as 0 (tini -e). */
  remapToZero: Set<number>;
  /** tini -s: not becoming a child subreaper is an error rather than a warning. */
  requireSubreaper: boolean;
  /** tini -p: the signal we get when our parent dies; forwarded like any other. */
  parentDeathSignal: SignalName | null;
  /** tini -w: a warning per orphan reaped. */
  warnOnReap: boolean;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

const TERMINATING = new Set<SignalName>(["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]);
/** Job-control stops: after passing one on, we stop too, so a shell's job control sees us stop. */
const JOB_CONTROL = new Set<SignalName>(["SIGTSTP", "SIGTTIN", "SIGTTOU"]);
const SIGSTOP = 19;

/** Parses `--rewrite 15:3` or `TERM:QUIT` (a destination of 0 drops the signal). */
export function parseRewrite(spec: string): [number, number] | null {
  const m = /^([^:]+):([^:]+)$/.exec(spec.trim());
  if (!m) return null;
  const from = normalizeSignal(m[1]!);
  const to = m[2] === "0" ? 0 : normalizeSignal(m[2]!);
  if (!from || to === null) return null;
  return [signalNumber(from), to === 0 ? 0 : signalNumber(to)];
}

/**
 * What a received signal becomes. dumb-init's setsid mode turns TSTP/TTIN/TTOU into SIGSTOP
 * unless rewritten: the child's new session has no terminal of ours, so its group is orphaned
 * and the kernel discards job-control stops sent to it.
 */
function forwardedAs(sig: number, rewrite: Map<number, number>, singleChild: boolean): number {
  const explicit = rewrite.get(sig);
  if (explicit !== undefined) return explicit;
  return !singleChild && JOB_CONTROL.has(SIGNAL_NAMES[sig - 1]!) ? SIGSTOP : sig;
}

export async function runSingleChild(o: SingleChildOptions): Promise<number> {
  const signals = await armSignals(FORWARDABLE);
  const lost = signals.unwatched();
  if (lost.length) o.log.warn(`${lost.join(", ")} cannot be received here (${signals.note}); they will not be forwarded`);
  const reaper = new Reaper(o.warnOnReap ? (pid) => o.log.warn(`reaped zombie process ${pid}`) : undefined);
  if (!(await takeInitDuties(reaper, o, o.log))) return 1;
  const child = spawnCommand(o);
  if (typeof child === "number") return remap(o, child);
  // Like any init, hold no directory: our cwd would keep its mount busy (umount: target is busy).
  process.chdir("/");
  const stopForwarding = forwardSignals(signals, child.pid, o);
  const code = await child.exited;
  stopForwarding();
  o.log.info(`${o.command[0]} exited with code ${code}`);
  // Background jobs of the child's group would otherwise outlive it, or, as PID 1, be SIGKILLed
  // the instant we exit (the kernel ends a PID namespace with its init). So they get a SIGTERM
  // and a moment to act on it before we leave.
  if (!o.singleChild && child.pid !== undefined) await endLeftoverGroup(child.pid, reaper);
  reaper.sweep();
  reaper.stop();
  return remap(o, code);
}

/** The command once spawned: its pid (none when its exec failed at once) and its exit code to come. */
interface Spawned {
  pid: number | undefined;
  exited: Promise<number>;
}

/** Spawns the command; an exit code when it could not be spawned at all. */
function spawnCommand(o: SingleChildOptions): Spawned | number {
  const [file, ...args] = o.command;
  let child;
  try {
    child = spawnManaged(file!, args, { stdio: "inherit", detached: !o.singleChild, env: o.env, cwd: process.cwd() });
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
  if (pid !== undefined) o.log.info(`spawned ${file} as pid ${pid}`);
  return { pid, exited };
}

/**
 * Passes every signal we get on to the child (or its group), rewritten as asked; the first
 * terminating one starts the --grace countdown to SIGKILL. Returns what cancels that countdown.
 */
function forwardSignals(signals: SignalSource, pid: number | undefined, o: SingleChildOptions): () => void {
  let graceTimer: ReturnType<typeof setTimeout> | null = null;
  const target = () => (o.singleChild ? pid! : -pid!);
  signals.listen((sig) => {
    if (pid === undefined) return;
    const to = forwardedAs(signalNumber(sig), o.rewrite, o.singleChild);
    if (to !== 0) {
      const name = SIGNAL_NAMES[to - 1]!;
      const ok = sendSignal(target(), name);
      o.log.debug(ok ? `passed ${sig}${name === sig ? "" : ` as ${name}`} to ${o.singleChild ? "pid" : "group"} ${pid}` : `${sig}: the child was gone`);
      if (o.graceMs !== null && TERMINATING.has(name) && !graceTimer) graceTimer = killAfterGrace(o.graceMs, name, target, o);
    }
    if (JOB_CONTROL.has(sig)) sendSignal(process.pid, "SIGSTOP"); // dumb-init: SIGCONT resumes us
  });
  return () => {
    if (graceTimer) clearTimeout(graceTimer);
  };
}

function killAfterGrace(graceMs: number, after: SignalName, target: () => number, o: SingleChildOptions): ReturnType<typeof setTimeout> {
  const timer = setTimeout(() => {
    o.log.warn(`${o.command[0]} still running ${formatDuration(graceMs)} after ${after}; sending SIGKILL`);
    sendSignal(target(), "SIGKILL");
  }, graceMs);
  timer.unref?.();
  return timer;
}

/** Longest wait for the child's leftover group after its SIGTERM; SIGKILL follows. */
const LEFTOVER_GRACE_MS = 2_000;

async function endLeftoverGroup(pgid: number, reaper: Reaper): Promise<void> {
  if (!sendSignal(-pgid, "SIGTERM")) return; // nobody left in the group
  const gone = await pollUntil(() => !groupAlive(pgid), LEFTOVER_GRACE_MS, { firstMs: 5, maxMs: 50, between: () => reaper.sweep() });
  if (!gone) sendSignal(-pgid, "SIGKILL");
}

/** A live (non-zombie) process in the group; a zombie has done all it will do. */
function groupAlive(pgid: number): boolean {
  return listPids().some((p) => {
    const st = readProcStat(p);
    return st !== null && st.pgrp === pgid && st.state !== "Z" && st.state !== "X";
  });
}

function remap(o: SingleChildOptions, code: number): number {
  return o.remapToZero.has(code) ? 0 : code;
}

function spawnFailure(o: SingleChildOptions, file: string, e: NodeJS.ErrnoException): number {
  if (e.code === "ENOENT") {
    o.log.error(`${file}: command not found`);
    return 127;
  }
  o.log.error(`${file}: cannot execute: ${e.code === "EACCES" ? "permission denied (not executable?)" : e.message}`);
  return 126;
}
