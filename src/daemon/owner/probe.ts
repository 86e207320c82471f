/**
 * `probeOwner`: is a live daemonctl host serving this socket?
 * (docs/protocol.md#who-is-live-the-status-probe; step 1 of
 * docs/how-it-works.md#the-host-and-its-bind-guard)
 *
 * A bare connect proves nothing: a frozen (SIGSTOPped) host still has its socket in listen(2)
 * and the kernel completes the handshake for it. The owner is live only if it answers a valid
 * status for this very socket, and the pid it reports is alive with the identity it reports.
 *
 * A host that answers with a well-formed protocol error instead (it is at its connection limit,
 * it evicted us) is alive too: `busy`, never `foreign`. Nobody replaces or reclaims a busy host.
 */
import type { Status } from "../../schema/status.ts";
import { INVALID, parseStatus } from "../../schema/generated/validators.ts";
import { isSameProcessAsync } from "../../platform/identity.ts";
import { requestOnce } from "../wire/client.ts";
import { formatDuration } from "../../schema/units.ts";

export type OwnerProbe =
  | { kind: "live"; status: Status }
  | { kind: "busy"; reason: string }
  | { kind: "none"; reason: "no-socket" | "refused" }
  | { kind: "hung"; reason: string }
  | { kind: "foreign"; reason: string }
  | { kind: "denied"; reason: string };

export const DEFAULT_PROBE_TIMEOUT_MS = 500;

export async function probeOwner(socketPath: string, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<OwnerProbe> {
  // A host that is dying (SIGKILLed: its leader thread is already a zombie while the rest of the
  // process still holds the socket) accepts a connection and drops it unanswered. That is not a
  // foreign listener: look again until the probe timeout before calling it one. A busy host is
  // asked again too, and stays busy: a later attempt that is cut short by the deadline, or
  // that it drops, does not make it hung or foreign.
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  let busy: OwnerProbe | null = null;
  for (;;) {
    const probe = await probeOnce(socketPath, Math.max(1, deadline - Date.now()));
    if (probe.kind === "busy") busy = probe;
    const again = probe.kind === "busy" || (probe.kind === "foreign" && probe.retry === true);
    if (!again || Date.now() + delay >= deadline) return busy && (again || probe.kind === "hung") ? busy : probe;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * `probeOwner`, asking a busy host again for up to `patienceMs`: for callers that must know
 * before they act (start, stop). Still busy after that is the caller's error to report.
 */
export async function probeOwnerPatiently(socketPath: string, timeoutMs: number, patienceMs: number): Promise<OwnerProbe> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    const probe = await probeOwner(socketPath, timeoutMs);
    if (probe.kind !== "busy" || Date.now() >= deadline) return probe;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The one way to say it: a busy owner is alive, and stays. */
export function busyMessage(name: string, reason: string): string {
  return `${name} is run by a live host that is too busy to answer (${reason}); it is left running`;
}

async function probeOnce(socketPath: string, timeoutMs: number): Promise<OwnerProbe & { retry?: boolean }> {
  const r = await requestOnce(socketPath, "status", undefined, timeoutMs);
  if (!("kind" in r)) {
    switch (r.code) {
      case "ENOENT":
        return { kind: "none", reason: "no-socket" };
      case "ECONNREFUSED":
        return { kind: "none", reason: "refused" };
      case "EACCES":
        return { kind: "denied", reason: `cannot connect to ${socketPath}: permission denied` };
      case "ETIMEDOUT":
        return { kind: "hung", reason: `connect to ${socketPath} timed out after ${formatDuration(timeoutMs)}` };
      default:
        return { kind: "foreign", reason: `cannot talk to ${socketPath}: ${r.message}`, retry: true };
    }
  }
  switch (r.kind) {
    case "timeout":
      return { kind: "hung", reason: `no status answer within ${formatDuration(timeoutMs)}` };
    case "closed":
      return { kind: "foreign", reason: "the listener closed the connection without answering", retry: true };
    case "error":
      return { kind: "busy", reason: `its host answered ${r.code}: ${r.message}` };
  }
  const s = parseStatus(r.result);
  if (s === INVALID) return { kind: "foreign", reason: "the listener's status does not match daemonctl/status@1" };
  if (s.socketPath !== socketPath) return { kind: "foreign", reason: `the listener says it serves ${s.socketPath}` };
  if (!(await isSameProcessAsync(s.pid, s.pidIdentity))) return { kind: "foreign", reason: `the listener's pid ${s.pid} is not alive with the identity it reports` };
  return { kind: "live", status: s };
}
