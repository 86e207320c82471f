/**
 * Proof that a process is really this daemon's host or child, before we kill it.
 *
 * Identity (boot id + start time) proves a pid was not reused. Ownership proves the process is
 * ours, and ours *for this daemon*, so forged or garbage metadata — naming some unrelated live
 * process, or copied from another daemon's file — can never make us signal it:
 * - metadata must describe this daemon's files (its `name` and `socketPath`);
 * - a host must hold a listening socket whose bind-time path (/proc/net/unix) is
 *   `R/.NAME.bPID.N`: bound for this daemon, by this very pid (see paths.bindPathOf);
 * - a child must carry `DAEMONCTL_NAME=NAME` and one of the metadata's invocation ids in its
 *   environment. The host records the id *before* it spawns, so a child is findable from the
 *   moment it exists, whenever its host dies.
 */
import { exePath, holdsSocketInode, listPids, PF_FORKNOEXEC, readCmdline, readEnviron, readProcStat, unixListenerInodes } from "../../platform/proc.ts";
import { metadataSchema, type Metadata } from "../../schema/metadata.ts";
import { identityOf, isSameProcess, signalGroupVerified, signalVerified, waitForDeath } from "../../platform/identity.ts";
import { isBindPathOf, type DaemonFiles } from "../state/paths.ts";
import { readJson } from "../state/store.ts";
import { formatDuration } from "../../schema/units.ts";

export const INVOCATION_ENV = "DAEMONCTL_INVOCATION";
export const NAME_ENV = "DAEMONCTL_NAME";

/** Does this metadata describe this daemon at all? A copy of another daemon's file does not. */
export function describesDaemon(meta: Pick<Metadata, "name" | "socketPath">, files: DaemonFiles): boolean {
  return meta.name === files.name && meta.socketPath === files.socket;
}

/** This daemon's metadata, or null when absent, corrupt, or describing another daemon. */
export function metadataFor(files: DaemonFiles): Metadata | null {
  const meta = readJson(files.metadata, metadataSchema());
  return meta.kind === "ok" && describesDaemon(meta.value, files) ? meta.value : null;
}

/** The metadata's pid is alive and holds a listener bound for this daemon by that pid. */
export function provenHost(meta: Pick<Metadata, "name" | "socketPath" | "pid" | "pidIdentity">, files: DaemonFiles): boolean {
  if (!describesDaemon(meta, files) || !isSameProcess(meta.pid, meta.pidIdentity)) return false;
  return holdsSocketInode(meta.pid, unixListenerInodes((path) => isBindPathOf(path, files, meta.pid)));
}

/**
 * A standalone host (never a supervisor, which serves other daemons too) that we can prove. The
 * metadata's `supervised: false` is only a claim; the process's own command line is the proof:
 * `__host NAME` (launched by `start`) or `start … NAME … --foreground`, never `supervise`.
 */
export function killableHost(meta: Metadata, files: DaemonFiles): boolean {
  return meta.supervised === false && meta.pid !== process.pid && provenHost(meta, files) && runsAsStandaloneHost(meta.pid, files.name);
}

function runsAsStandaloneHost(pid: number, name: string): boolean {
  const argv = readCmdline(pid);
  if (!argv || argv.includes("supervise")) return false;
  const at = argv.indexOf("__host");
  if (at >= 0) return argv[at + 1] === name;
  return argv.includes("start") && argv.includes("--foreground") && argv.includes(name);
}

/** SIGKILL to a previous host proven ours: a frozen process cannot run its handlers. */
export async function killHost(meta: Metadata, files: DaemonFiles): Promise<boolean> {
  if (!killableHost(meta, files)) return false;
  const sent = signalVerified(meta.pid, meta.pidIdentity, "SIGKILL");
  if (sent) await waitForDeath(meta.pid, meta.pidIdentity, 2_000);
  return sent;
}

/** Invocation ids metadata knows of: the recorded child's, and the one a spawn was started with. */
export function invocationsOf(meta: Metadata): string[] {
  const ids = [meta.child?.invocation, meta.pendingInvocation].filter((id): id is string => typeof id === "string" && id.length > 0);
  return [...new Set(ids)];
}

export interface OwnedProcess {
  pid: number;
  identity: string;
  /** Our children lead their own process group; whatever they started is in it. */
  leadsGroup: boolean;
}

/**
 * Live processes (not zombies) whose environment carries `DAEMONCTL_NAME=name` and one of
 * `invocations`: the child of that invocation, whatever it started that kept its environment,
 * and its readiness checks. Never ourselves or our ancestors (a `start` run from inside the
 * daemon inherits its variables and waits for us).
 */
export function findInvocationProcesses(name: string, invocations: string[]): OwnedProcess[] {
  if (invocations.length === 0) return [];
  const nameVar = `${NAME_ENV}=${name}`;
  const idVars = new Set(invocations.map((id) => `${INVOCATION_ENV}=${id}`));
  const skip = selfAndAncestors();
  const out: OwnedProcess[] = [];
  for (const pid of listPids()) {
    if (skip.has(pid)) continue;
    const before = identityOf(pid);
    if (!before) continue;
    const env = readEnviron(pid);
    if (!env || !env.includes(nameVar) || !env.some((v) => idVars.has(v))) continue;
    const st = readProcStat(pid);
    // The same process before and after reading its environment, not a pid reused in between.
    if (!st || identityOf(pid) !== before) continue;
    out.push({ pid, identity: before, leadsGroup: st.pgrp === pid });
  }
  return out;
}

function selfAndAncestors(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 1 && !out.has(pid); ) {
    out.add(pid);
    pid = readProcStat(pid)?.ppid ?? 0;
  }
  return out;
}

/** A fork execs within milliseconds; one that has not after this long is stuck (stopped, traced). */
const IN_FLIGHT_FORK_MS = 1_000;

/**
 * A host killed during a spawn can leave a fork that has not exec'd yet: still a copy of the
 * host (same executable, PF_FORKNOEXEC, the host's environment, no invocation id visible). It
 * becomes the daemon a moment later. Waits until no such fork of a daemonctl process is left
 * (each has exec'd, with its new environment in place, or died), so a scan after this sees it.
 */
export async function settleInFlightForks(timeoutMs: number): Promise<number[]> {
  const exe = exePath(process.pid);
  if (!exe) return [];
  const skip = selfAndAncestors();
  const pending = new Map<number, string>();
  for (const pid of listPids()) {
    if (skip.has(pid)) continue;
    const st = readProcStat(pid);
    if (!st || (st.flags & PF_FORKNOEXEC) === 0 || st.state === "Z" || exePath(pid) !== exe) continue;
    const id = identityOf(pid);
    if (id) pending.set(pid, id);
  }
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const [pid, id] of pending) {
      const st = readProcStat(pid);
      const settled = !isSameProcess(pid, id) || (st !== null && (st.flags & PF_FORKNOEXEC) === 0 && (readEnviron(pid)?.length ?? 0) > 0);
      if (settled) pending.delete(pid);
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 5));
  }
  return [...pending.keys()];
}

/**
 * Stops every process of this daemon's recorded invocations (after its host is dead or proven
 * unable to spawn again): SIGTERM to each (to its whole group when it leads one: it may be
 * healthy and deserve a clean exit), SIGKILL after `timeoutMs`, then waits for death.
 * Returns the pids found, whether all of them are gone, and forks that never exec'd in time
 * (`unsettled`: one of them may still become the child; the metadata keeps naming its id).
 */
export async function stopInvocations(files: DaemonFiles, meta: Metadata, timeoutMs: number): Promise<{ pids: number[]; gone: boolean; unsettled: number[] }> {
  const ids = invocationsOf(meta);
  if (ids.length === 0) return { pids: [], gone: true, unsettled: [] };
  const unsettled = meta.pendingInvocation ? await settleInFlightForks(IN_FLIGHT_FORK_MS) : [];
  const procs = findInvocationProcesses(files.name, ids);
  // A recorded child we cannot find (it rewrote its environment) is not signalled, and it is
  // not gone either while its pid still has its identity.
  const c = meta.child;
  const unproven = c !== null && !procs.some((p) => p.pid === c.pid) && isSameProcess(c.pid, c.identity);
  if (procs.length === 0) return { pids: [], gone: !unproven, unsettled };
  const signal = (sig: "SIGTERM" | "SIGKILL") => {
    for (const p of procs) (p.leadsGroup ? signalGroupVerified : signalVerified)(p.pid, p.identity, sig);
  };
  const allDead = async (ms: number) => (await Promise.all(procs.map((p) => waitForDeath(p.pid, p.identity, ms)))).every(Boolean);
  signal("SIGTERM");
  const pids = procs.map((p) => p.pid);
  if (await allDead(timeoutMs)) return { pids, gone: !unproven, unsettled };
  signal("SIGKILL");
  return { pids, gone: (await allDead(2_000)) && !unproven, unsettled };
}

export function unsettledNote(pids: number[]): string {
  return `pid ${pids.join(", ")}, forked by a daemonctl process, had not exec'd after ${formatDuration(IN_FLIGHT_FORK_MS)}`;
}

/**
 * Keeps an eye on forks that had not exec'd when we reclaimed (stopped or traced before their
 * exec): whichever of them turns into a process of these invocations later is stopped then.
 * Gives up after `timeoutMs`.
 */
export async function followUnsettledForks(name: string, invocations: string[], pids: number[], timeoutMs: number, stopped: (pid: number) => void): Promise<void> {
  const watching = new Map(pids.map((pid) => [pid, identityOf(pid)] as const));
  const deadline = Date.now() + timeoutMs;
  while (watching.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    for (const [pid, id] of watching) {
      const st = readProcStat(pid);
      if (!id || !isSameProcess(pid, id)) watching.delete(pid);
      else if (st && (st.flags & PF_FORKNOEXEC) === 0 && (readEnviron(pid)?.length ?? 0) > 0) {
        watching.delete(pid);
        for (const p of findInvocationProcesses(name, invocations).filter((p) => p.pid === pid)) {
          (p.leadsGroup ? signalGroupVerified : signalVerified)(p.pid, p.identity, "SIGKILL");
          stopped(p.pid);
        }
      }
    }
  }
}
