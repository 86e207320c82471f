/**
 * Planned stop (SPEC §4): marker, request, SIGTERM fallback, SIGKILL after the timeout, and the
 * intent `stopped` recorded however the host ended.
 */
import { metadataSchema, type Metadata } from "../schema/metadata.ts";
import type { StopReason } from "../schema/planned-stop.ts";
import { statusSchema, type Status } from "../schema/status.ts";
import { stopResultSchema } from "../schema/protocol.ts";
import { isSameProcess, signalGroupVerified, signalVerified, waitForDeath } from "./identity.ts";
import { readState, setIntent, writePlannedStopMarker } from "./intent.ts";
import { killPreviousOwner, provenChild, provenHost } from "./ownership.ts";
import { daemonFiles, type DaemonFiles, type Dirs } from "./paths.ts";
import { probeOwner } from "./probe.ts";
import { ControlClient, requestOnce } from "./protocol.ts";
import { inodeOf, readJson } from "./store.ts";
import type { Logger } from "./host.ts";
import { DEFAULTS } from "../schema/definition.ts";

export type StopOutcome =
  | { kind: "stopped"; wasRunning: boolean; notes: string[] }
  | { kind: "failed"; message: string };

export interface StopOptions {
  dirs: Dirs;
  reason: StopReason;
  probeTimeoutMs: number;
  /** Overall patience; default: the daemon's stopTimeout + 2 s. */
  timeoutMs?: number | undefined;
  log: Logger;
}

export async function stopDaemon(name: string, o: StopOptions): Promise<StopOutcome> {
  const files = daemonFiles(o.dirs, name);
  const stored = readState(files);
  const timeoutMs = o.timeoutMs ?? (stored?.definition?.stopTimeout ?? DEFAULTS.stopTimeout) + 2_000;
  const probe = await probeOwner(files.socket, o.probeTimeoutMs);
  if (probe.kind === "denied") return { kind: "failed", message: probe.reason };
  const notes: string[] = [];

  if (probe.kind === "live") {
    const s = probe.status;
    const marker = writePlannedStopMarker(files, { pid: s.pid!, identity: s.pidIdentity! }, o.reason);
    if (!marker.ok) notes.push(`${marker.message}; a signal would now count as unplanned, so intent is recorded here instead`);
    const r = await requestOnce(files.socket, "stop", { reason: o.reason }, Math.max(o.probeTimeoutMs, 1_000));
    const res = "kind" in r && r.kind === "ok" ? stopResultSchema().safeParse(r.result) : null;
    let done: boolean;
    if (res?.success && !res.data.hostExits) {
      done = await waitChildStopped(files, timeoutMs, o.probeTimeoutMs);
      if (!done) killProvenChild(files, notes);
    } else {
      if (!res?.success) {
        notes.push(`pid ${s.pid} did not accept the stop request; sent SIGTERM`);
        signalVerified(s.pid!, s.pidIdentity!, "SIGTERM");
      }
      done = await waitHostGone(files, s, timeoutMs);
      if (!done) {
        notes.push(`pid ${s.pid} still running after ${timeoutMs} ms; sent SIGKILL`);
        const meta = readJson(files.metadata, metadataSchema());
        signalVerified(s.pid!, s.pidIdentity!, "SIGKILL");
        await waitForDeath(s.pid!, s.pidIdentity!, 2_000);
        if (meta.kind === "ok") await killPreviousOwner(meta.value, 1_000);
      }
    }
    return finish(files, notes, true);
  }

  // No answering host. A hung host or an orphaned child may still hold resources: stop what
  // we can prove is ours; never signal a pid we cannot verify.
  const meta = readJson(files.metadata, metadataSchema());
  let wasRunning = false;
  if (meta.kind === "ok") wasRunning = await stopUnresponsive(files, meta.value, o.reason, timeoutMs, notes);
  return finish(files, notes, wasRunning);
}

function finish(files: DaemonFiles, notes: string[], wasRunning: boolean): StopOutcome {
  const st = readState(files);
  if (st && st.intent !== "stopped") {
    const r = setIntent(files, "stopped");
    if (!r.ok) return { kind: "failed", message: r.message };
  }
  return { kind: "stopped", wasRunning, notes };
}

async function stopUnresponsive(files: DaemonFiles, meta: Metadata, reason: StopReason, timeoutMs: number, notes: string[]): Promise<boolean> {
  let acted = false;
  if (provenHost(meta)) {
    acted = true;
    writePlannedStopMarker(files, { pid: meta.pid, identity: meta.pidIdentity }, reason);
    signalVerified(meta.pid, meta.pidIdentity, "SIGTERM");
    if (!(await waitForDeath(meta.pid, meta.pidIdentity, timeoutMs))) {
      notes.push(`host pid ${meta.pid} did not answer or stop; sent SIGKILL`);
      signalVerified(meta.pid, meta.pidIdentity, "SIGKILL");
      await waitForDeath(meta.pid, meta.pidIdentity, 2_000);
    }
  }
  if (provenChild(meta.child)) {
    acted = true;
    notes.push(`stopping orphaned child pid ${meta.child.pid}`);
    await killPreviousOwner({ ...meta, pid: process.pid }, timeoutMs);
  }
  return acted;
}

/** Until the socket is gone (a host removes it last) or the host process is dead. */
async function waitHostGone(files: DaemonFiles, s: Status, timeoutMs: number): Promise<boolean> {
  const ino = inodeOf(files.socket);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (ino === null || inodeOf(files.socket) !== ino) return true;
    if (!isSameProcess(s.pid, s.pidIdentity)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** A supervisor keeps serving: wait until it reports the child down. */
async function waitChildStopped(files: DaemonFiles, timeoutMs: number, probeTimeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const client = await ControlClient.open(files.socket, probeTimeoutMs);
  if (!(client instanceof ControlClient)) return true;
  try {
    while (Date.now() < deadline) {
      const r = await client.request("status", undefined, probeTimeoutMs);
      if (r.kind !== "ok") return r.kind === "closed";
      const s = statusSchema().safeParse(r.result);
      if (s.success && s.data.child?.pid == null && s.data.state !== "stopping") return true;
      await new Promise((res) => setTimeout(res, 20));
    }
    return false;
  } finally {
    client.close();
  }
}

function killProvenChild(files: DaemonFiles, notes: string[]): void {
  const meta = readJson(files.metadata, metadataSchema());
  if (meta.kind === "ok" && provenChild(meta.value.child)) {
    notes.push(`child pid ${meta.value.child.pid} did not stop in time; sent SIGKILL`);
    signalGroupVerified(meta.value.child.pid, meta.value.child.identity, "SIGKILL");
  }
}
