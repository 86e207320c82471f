/**
 * Metadata rebuilt from a live owner's own status answer (bind guard step 2): when a live host
 * answers but R/NAME.json is missing or names someone else, the file is made to name it again.
 */
import { METADATA_SCHEMA, metadataSchema, type Metadata } from "../../schema/metadata.ts";
import type { Status } from "../../schema/status.ts";
import { PROTOCOL_VERSION } from "../../schema/protocol.ts";
import { identityOf } from "../../platform/identity.ts";
import type { DaemonFiles } from "../state/paths.ts";
import { readJson, writeJsonAtomic } from "../state/store.ts";

/** Does metadata name the process that answered this status? */
export function metadataNamesStatus(m: Metadata, s: Status): boolean {
  return m.pid === s.pid && m.pidIdentity === s.pidIdentity && m.socketPath === s.socketPath;
}

/** Rewrites metadata to name the answering owner; returns whether it had to. */
export function reconcileMetadataFromStatus(files: DaemonFiles, s: Status): boolean {
  const meta = readJson(files.metadata, metadataSchema());
  if (meta.kind === "ok" && metadataNamesStatus(meta.value, s)) return false;
  writeJsonAtomic(files.metadata, metadataSchema(), metadataFromStatus(files.name, s));
  return true;
}

export function metadataFromStatus(name: string, s: Status): Metadata {
  const childPid = s.child?.pid ?? null;
  const childIdentity = childPid ? identityOf(childPid) : null;
  return {
    schema: METADATA_SCHEMA,
    name,
    pid: s.pid!,
    pidIdentity: s.pidIdentity!,
    socketPath: s.socketPath!,
    bindPath: null,
    startedAt: s.startedAt ?? new Date().toISOString(),
    identity: s.identity ?? "",
    child: childPid && childIdentity ? { pid: childPid, identity: childIdentity, invocation: null } : null,
    pendingInvocation: null,
    supervised: null,
    version: s.version ?? "unknown",
    protocolVersion: s.protocolVersion ?? PROTOCOL_VERSION,
  };
}
