/**
 * Run intent and planned-stop markers (docs/run-intent.md).
 *
 * The problem: a container restart sends the same SIGTERM as an operator's stop. Only the
 * operator's `stop` writes a marker naming the host first, so a host that receives a signal can
 * tell the two apart: marker naming itself = planned (intent becomes `stopped`), no marker =
 * unplanned (intent stays `running`, so the daemon comes back after the restart).
 */
import { PLANNED_STOP_SCHEMA, plannedStopSchema, type PlannedStop, type StopReason } from "../../schema/planned-stop.ts";
import { STATE_SCHEMA, stateSchema, type Intent, type State } from "../../schema/state.ts";
import { isSameProcess } from "../../platform/identity.ts";
import { dirnameOf, type DaemonFiles } from "./paths.ts";
import { readJson, readJsonOrNull, removeQuietly, writeJsonAtomic } from "./store.ts";

/** A marker older than this is stale: its stop command gave up long ago. */
export const MARKER_MAX_AGE_MS = 60_000;

export type MarkerWrite = { ok: true } | { ok: false; message: string };

export function writePlannedStopMarker(files: DaemonFiles, target: { pid: number; identity: string }, reason: StopReason): MarkerWrite {
  const marker: PlannedStop = {
    schema: PLANNED_STOP_SCHEMA,
    name: files.name,
    pid: target.pid,
    pidIdentity: target.identity,
    stopperPid: process.pid,
    reason,
    at: new Date().toISOString(),
  };
  try {
    writeJsonAtomic(files.marker, plannedStopSchema(), marker, { mode: 0o600 });
    return { ok: true };
  } catch (e) {
    return { ok: false, message: `cannot write planned-stop marker ${files.marker}: ${(e as Error).message}` };
  }
}

/**
 * If a fresh marker names this very process, deletes it and returns it: the signal we got is a
 * planned stop. A marker for a dead pid or older than 60 s is removed and ignored. A fresh marker
 * for another *live* process is left alone (it is meant for that host) but still ignored here.
 */
export function consumePlannedStopMarker(files: DaemonFiles, self: { pid: number; identity: string }, now = Date.now()): PlannedStop | null {
  const r = readJson(files.marker, plannedStopSchema());
  if (r.kind === "absent" || r.kind === "denied") return null;
  if (r.kind === "corrupt") {
    removeQuietly(files.marker);
    return null;
  }
  const m = r.value;
  const age = now - Date.parse(m.at);
  const fresh = Number.isFinite(age) && age >= -5_000 && age < MARKER_MAX_AGE_MS;
  if (fresh && m.pid === self.pid && m.pidIdentity === self.identity) {
    removeQuietly(files.marker);
    return m;
  }
  if (!fresh || !isSameProcess(m.pid, m.pidIdentity)) removeQuietly(files.marker);
  return null;
}

export function readState(files: DaemonFiles): State | null {
  return readJsonOrNull(files.state, stateSchema());
}

export function emptyState(name: string): State {
  return {
    schema: STATE_SCHEMA,
    name,
    intent: "running",
    lastState: null,
    definition: null,
    identity: null,
    restarts: 0,
    lastExit: null,
    updatedAt: new Date().toISOString(),
  };
}

/** How files are shared (host.ts `Sharing`); omitted: keep what the file has. */
export interface FileSharing {
  fileMode?: number;
  gid?: number | undefined;
}

/** Read-modify-write of `S/NAME.state.json`. Throws on I/O errors. */
export function updateState(files: DaemonFiles, patch: Partial<Omit<State, "schema" | "name">>, sharing: FileSharing = {}): State {
  const current = readState(files);
  // A patch that changes nothing is not written: each write costs an fsync, and a host records
  // "starting" both before and right after the spawn.
  if (current && changesNothing(current, patch)) return current;
  const next: State = { ...(current ?? emptyState(files.name)), ...patch, updatedAt: new Date().toISOString() };
  // fsync every time: each write replaces the whole file, intent included, and an un-synced
  // replacement can come back empty after a power loss on some filesystems.
  writeJsonAtomic(files.state, stateSchema(), next, { durable: true, mode: sharing.fileMode, gid: sharing.gid });
  return next;
}

function changesNothing(current: State, patch: Partial<State>): boolean {
  return Object.entries(patch).every(([k, v]) => JSON.stringify(current[k as keyof State] ?? null) === JSON.stringify(v ?? null));
}

/** Sets the intent, reporting (not throwing) a failure to write it. */
export function setIntent(files: DaemonFiles, intent: Intent, sharing: FileSharing = {}): { ok: true } | { ok: false; message: string } {
  try {
    updateState(files, { intent }, sharing);
    return { ok: true };
  } catch (e) {
    return { ok: false, message: `cannot record intent "${intent}" in ${files.state}: ${(e as Error).message}` };
  }
}

/** The protocol error a host answers a `stop` with when it cannot record intent `stopped`. */
export const INTENT_NOT_RECORDED = "intent-not-recorded";

/** What, where and how to fix it, for a stop refused because its intent could not be written. */
export function unrecordedStopMessage(files: DaemonFiles, why: string): string {
  return `${why}; nothing was stopped, because the stop would not survive a restart. ` +
    `Free space in ${dirnameOf(files.state)} (or make it writable), then run the stop again`;
}

/**
 * Intent first, then the stop: a stop that cannot be remembered would be undone by the next
 * `reconcile` or container restart, so when the state file cannot be written (disk full,
 * read-only volume) nothing is stopped and the operator is told why and how to fix it.
 * `restart` starts the daemon again at once: for it, intent stays best effort.
 */
export function recordStopIntent(files: DaemonFiles, reason: StopReason): { ok: true } | { ok: false; message: string } {
  // A restart's or a replacement's stop is no operator's stop: the start that follows (the
  // restart's own, the successor's) records intent itself, and meanwhile `start --unless-stopped`
  // must not take the daemon for one an operator stopped.
  if (reason !== "stop") return { ok: true };
  const st = readState(files);
  if (!st || st.intent === "stopped") return { ok: true };
  const w = setIntent(files, "stopped");
  if (w.ok) return { ok: true };
  return { ok: false, message: unrecordedStopMessage(files, w.message) };
}

/** `intent/lastState` as reconcile reports it (`none` without a record). */
export function priorOf(st: State | null): string {
  return st ? `${st.intent}/${st.lastState ?? "none"}` : "none";
}

export type BootAction = "start" | "left-down" | "skipped-failed";

/**
 * What a boot (`supervise`) or `reconcile` does with a daemon that is not live, from what was
 * recorded: `stopped` stays down (an operator said so), one that last `failed` stays down and
 * keeps reporting `failed` (no crash loop after every container restart), `running` starts. No
 * record at all starts only a config daemon with `autostart`.
 */
export function bootAction(st: State | null, autostart: boolean): BootAction {
  if (!st) return autostart ? "start" : "left-down";
  if (st.intent === "stopped") return "left-down";
  // A oneshot is a task of the boot (a migration): one that failed last time runs again, since
  // what made it fail (a database not up yet) may have passed, and its dependents wait for it.
  if (st.lastState === "failed" && st.definition?.type !== "oneshot") return "skipped-failed";
  return "start";
}

/**
 * A reconcile or boot decision as a sentence for people (`--json` keeps the fields):
 * `db: left down (stopped by an operator)`. `prior` is priorOf's `intent/lastState` or `none`.
 */
export function describeReconcile(line: { name: string; prior: string; action: string; error?: string | undefined }, boot = false): string {
  const { name } = line;
  const [intent, last] = line.prior.split("/");
  switch (line.action) {
    case "started":
      return boot ? `${name}: starting${intent === "none" ? " (autostart)" : ""}` : `${name}: started`;
    case "already-running":
      return `${name}: already running`;
    case "left-down":
      return `${name}: left down (${intent === "stopped" ? "stopped by an operator" : "never started, and not autostart"})`;
    case "skipped-failed":
      return `${name}: not started (it last ${last === "failed" ? "failed" : "ended in failure"}; run daemonctl start ${name})`;
    case "start-failed":
      return `${name}: failed to start${line.error ? `: ${line.error}` : ""}`;
    default:
      return `${name}: ${line.action}`;
  }
}
