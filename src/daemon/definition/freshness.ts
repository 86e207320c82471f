/**
 * Definition identity (docs/configuration.md#where-a-definition-comes-from): a hash of the
 * canonical definition plus the *contents* of each watched file and env file. Content, not mtime: touching a
 * file changes nothing, editing it does.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
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
