/**
 * Verified status of a daemon as seen from outside (docs/status.md).
 *
 * A live host answers for itself (after probe.ts verified it). Otherwise the answer is derived
 * from the state file, and never includes a pid: a pid we cannot verify is not reported.
 * This module sits on the `status --json` start-up path: the state file's schema (and with it
 * zod) is loaded only when no host answers.
 */
import { fileExists, readText } from "../../platform/files.ts";
import type { ReadResult } from "../state/store.ts";
import type { State } from "../../schema/state.ts";
import { STATUS_SCHEMA, type DaemonState } from "../../schema/constants.ts";
import { stateAfterEnd } from "../policy.ts";
import type { Status } from "../../schema/status.ts";
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { knownAndConfigured, leftTraces, unknownDaemonMessage } from "../state/known.ts";
import { probeOwner, type OwnerProbe } from "../owner/probe.ts";

export function blankStatus(name: string): Status {
  return {
    schema: STATUS_SCHEMA,
    name,
    state: "stopped",
    ready: null,
    intent: null,
    pid: null,
    pidIdentity: null,
    socketPath: null,
    startedAt: null,
    uptimeMs: null,
    identity: null,
    fresh: null,
    child: null,
    logPath: null,
    version: null,
    protocolVersion: null,
    error: null,
    statusText: null,
    health: null,
    healthCheck: null,
  };
}

export async function collectStatus(name: string, dirs: Dirs, probeTimeoutMs: number): Promise<Status> {
  const files = daemonFiles(dirs, name);
  const probe = await probeOwner(files.socket, probeTimeoutMs);
  if (probe.kind === "live") return probe.status;
  return statusWithoutHost(name, dirs, probe);
}

/** The status when no verified host answers: hung, unknown, or derived from the state file. */
async function statusWithoutHost(name: string, dirs: Dirs, probe: Exclude<OwnerProbe, { kind: "live" }>): Promise<Status> {
  const files = daemonFiles(dirs, name);
  const s = blankStatus(name);
  const st = await readStateFile(files.state);
  if (st.kind === "ok") {
    const v = st.value;
    s.intent = v.intent;
    s.identity = v.identity;
    s.child = { pid: null, startedAt: null, restarts: v.restarts, lastExit: v.lastExit };
    s.logPath = (await fileExists(files.log)) ? files.log : null;
  }
  if (probe.kind === "hung") {
    s.state = "hung";
    s.socketPath = files.socket;
    s.error = { code: "hung", message: `the host owning ${files.socket} does not answer: ${probe.reason}` };
    return s;
  }
  if (probe.kind === "denied" || st.kind === "denied") {
    s.state = "unknown";
    s.error = { code: "permission-denied", message: probe.kind === "denied" ? probe.reason : (st as { message: string }).message };
    return s;
  }
  if (probe.kind === "busy") {
    // Alive, but it could not give its status in time: say so rather than guess a state.
    s.state = "unknown";
    s.socketPath = files.socket;
    s.error = { code: "busy", message: `the host owning ${files.socket} is alive but too busy to answer: ${probe.reason}` };
    return s;
  }
  if (probe.kind === "foreign") {
    s.state = "unknown";
    s.socketPath = files.socket;
    s.error = { code: "foreign-listener", message: probe.reason };
    return s;
  }
  s.state = st.kind === "ok" ? stateFromRecord(st.value.intent, st.value.lastState, st.value.lastExit) : "stopped";
  if (s.state === "dead") s.error = { code: "host-gone", message: `intent is running but no host serves ${files.socket}; \`daemonctl start ${name}\` or \`daemonctl reconcile\` brings it back` };
  const e = st.kind === "ok" ? st.value.lastExit : null;
  // 127/126 from a failed daemon is the shell convention the runner follows for a command that
  // could not be executed (not found / not executable); its host has gone, its record says so.
  if (s.state === "failed" && e && e.signal === null && (e.code === 127 || e.code === 126)) {
    s.error = { code: "cannot-execute", message: `its command could not be executed (${e.code === 127 ? "not found" : "not executable"}; see \`daemonctl logs ${name}\`)` };
  }
  return s;
}

/**
 * The state file as `readJson` reads it, but its schema (and zod with it) is loaded only when
 * there is a file to check: a daemon that left none (a typo, a name in the config only) does not pay.
 */
async function readStateFile(path: string): Promise<ReadResult<State>> {
  const r = await readText(path);
  if (!r.ok && r.code === "ENOENT") return { kind: "absent" };
  const [{ parseJson, readJson }, { stateSchema }] = await Promise.all([import("../state/store.ts"), import("../../schema/state.ts")]);
  return r.ok ? parseJson(path, r.text, stateSchema()) : readJson(path, stateSchema());
}

function stateFromRecord(intent: string, lastState: string | null, lastExit: { code: number | null; signal: string | null } | null): DaemonState {
  if (intent === "stopped") return "stopped";
  if (lastState === "failed" || lastState === "exited" || lastState === "done") return stateAfterEnd(lastState, lastExit);
  return "dead";
}

/**
 * A name defined nowhere is `unknown` (exit 4, like `systemctl status` of an unknown unit), not
 * `stopped`: a typo must not read as "down as intended". Only names that look never started and
 * left no trace are checked, and the config file's names are read only then, so a running
 * daemon's status costs nothing more.
 */
export async function markUndefined(dirs: Dirs, statuses: Status[], configuredNames: () => Promise<string[]>): Promise<void> {
  const blank = statuses.filter((s) => s.state === "stopped" && s.intent === null && s.child === null && !leftTraces(dirs, s.name));
  if (!blank.length) return;
  const configured = await configuredNames();
  for (const s of blank) {
    if (configured.includes(s.name)) continue;
    s.state = "unknown";
    s.error = { code: "unknown-daemon", message: unknownDaemonMessage([s.name], knownAndConfigured(dirs, configured)) };
  }
}
