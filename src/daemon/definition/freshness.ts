/**
 * Definition identity (docs/configuration.md#where-a-definition-comes-from): a hash of the
 * canonical definition plus the *contents* of each watched file and env file. Content, not mtime: touching a
 * file changes nothing, editing it does.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { Definition } from "../../schema/definition.ts";
import { envFileRef } from "./envfile.ts";

/** JSON with object keys sorted at every level, so equal definitions hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function fileDigest(path: string): string | null {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return null;
  }
}

export function definitionIdentity(def: Definition): string {
  const watched = def.watch.map((path) => ({ path, sha256: fileDigest(path) }));
  // Only when there are env files (canonicalJson drops undefined): every other definition keeps
  // the identity it had before env files existed, so upgrading replaces no running daemon.
  const envFiles = def.envFile?.map((entry) => ({ path: entry, sha256: fileDigest(envFileRef(entry).path) }));
  const hash = createHash("sha256").update(canonicalJson({ definition: def, watched, envFiles })).digest("hex");
  return `sha256:${hash.slice(0, 32)}`;
}

/** Files younger than this are hashed on every ask: see FreshnessMemo. */
const RACY_NS = 2_000_000_000n;

/**
 * `definitionIdentity(def) === identity`, remembered until the definition, the identity or a
 * watched or env file changes: every status request asks, and re-hashing the definition and its
 * files each time was a large share of a status answer. A file's stat (device, inode, size,
 * mtime, ctime) stands in for its content — except while it is younger than RACY_NS: a write
 * within the same timestamp tick as our read would leave the stat unchanged, so such a file is
 * hashed on every ask until it has aged (git's "racily clean" rule).
 */
export class FreshnessMemo {
  private memo: { def: Definition; identity: string; stamp: string; fresh: boolean } | null = null;

  /** `racyNs` is for tests: 0 trusts a file's stat however young it is. */
  constructor(private readonly racyNs = RACY_NS) {}

  isFresh(def: Definition, identity: string): boolean {
    const stamp = filesStamp(def, this.racyNs);
    const m = this.memo;
    if (m && stamp !== null && m.def === def && m.identity === identity && m.stamp === stamp) return m.fresh;
    const fresh = definitionIdentity(def) === identity;
    this.memo = stamp === null ? null : { def, identity, stamp, fresh };
    return fresh;
  }
}

/** What the files behind an identity look like now; null when one is too young to trust its stat. */
function filesStamp(def: Definition, racyNs: bigint): string | null {
  const paths = [...def.watch, ...(def.envFile?.map((entry) => envFileRef(entry).path) ?? [])];
  if (paths.length === 0) return "";
  const now = BigInt(Date.now()) * 1_000_000n;
  const parts: string[] = [];
  for (const path of paths) {
    let s;
    try {
      s = statSync(path, { bigint: true });
    } catch {
      parts.push("-");
      continue;
    }
    if (now - s.ctimeNs < racyNs || now - s.mtimeNs < racyNs) return null;
    parts.push(`${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`);
  }
  return parts.join("|");
}
