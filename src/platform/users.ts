/** Resolves user and group names to ids from /etc/passwd and /etc/group (no libc NSS needed). */
import { readFileSync } from "node:fs";

function lookup(file: string, name: string, field: number): number | null {
  try {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const parts = line.split(":");
      if (parts[0] === name && parts[field] !== undefined) return Number(parts[field]);
    }
  } catch {
    // no such file: only numeric ids work
  }
  return null;
}

/** uid and primary gid of a user name or numeric uid; null if unknown. */
export function resolveUser(user: string | number): { uid: number; gid: number | null } | null {
  if (typeof user === "number" || /^\d+$/.test(user)) {
    const uid = Number(user);
    return { uid, gid: null };
  }
  const uid = lookup("/etc/passwd", user, 2);
  if (uid === null) return null;
  return { uid, gid: lookup("/etc/passwd", user, 3) };
}

export function resolveGroup(group: string | number): number | null {
  if (typeof group === "number" || /^\d+$/.test(group)) return Number(group);
  return lookup("/etc/group", group, 2);
}
