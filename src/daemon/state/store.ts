/**
 * JSON files, always through their zod schema, always written atomically.
 *
 * A missing, truncated or corrupt file reads as "absent": a half-written file left by a crash
 * must never crash the next command. Permission errors are reported separately because
 * `status` must say `unknown` rather than `stopped` when it cannot look.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, lstatSync, chownSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import type * as z from "zod/mini";

export type ReadResult<T> =
  | { kind: "ok"; value: T }
  | { kind: "absent" }
  | { kind: "corrupt"; message: string }
  | { kind: "denied"; message: string };

export function readJson<S extends z.ZodMiniType>(path: string, schema: S): ReadResult<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return { kind: "denied", message: `cannot read ${path}: permission denied` };
    return { kind: "absent" };
  }
  return parseJson(path, text, schema);
}

/** `readJson` of text already read (`status` reads with the runtime's native API). */
export function parseJson<S extends z.ZodMiniType>(path: string, text: string, schema: S): ReadResult<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: "corrupt", message: `${path} is not valid JSON` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { kind: "corrupt", message: `${path} does not match its schema` };
  return { kind: "ok", value: parsed.data };
}

/** The file's value, or null when absent, corrupt or unreadable. */
export function readJsonOrNull<S extends z.ZodMiniType>(path: string, schema: S): z.output<S> | null {
  const r = readJson(path, schema);
  return r.kind === "ok" ? r.value : null;
}

export interface WriteOptions {
  /** Mode of the new file; default: the mode of the file it replaces, else 0600. */
  mode?: number;
  /** fsync before the rename: for persistent state, not for the ephemeral runtime dir. */
  durable?: boolean;
  gid?: number;
}

let tmpCounter = 0;

/**
 * Validates `value` with `schema`, then writes it to a temporary file in the same directory and
 * renames it over `path`, so readers see either the old or the new file, never a torn one.
 * Throws on I/O errors (callers decide whether that is fatal).
 */
export function writeJsonAtomic<S extends z.ZodMiniType>(path: string, schema: S, value: z.input<S>, opts: WriteOptions = {}): void {
  const checked = schema.parse(value);
  writeFileAtomic(path, `${JSON.stringify(checked, null, 2)}\n`, opts);
}

/**
 * Writes `data` to a temporary file in the same directory and renames it over `path`: a reader
 * sees the old file or the new one, never a torn one. The temporary name starts with a dot and
 * ends in `.tmp`, so a directory watcher that wants `*.json` or `*.prom` ignores it.
 */
export function writeFileAtomic(path: string, data: string, opts: WriteOptions = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  // A writer that does not know the sharing settings (say, `stop` recording intent for a dead
  // host) keeps the permissions the file already has.
  let mode = opts.mode;
  let gid = opts.gid;
  if (mode === undefined) {
    try {
      const st = lstatSync(path);
      mode = st.mode & 0o777;
      gid ??= st.gid;
    } catch {
      mode = 0o600;
    }
  }
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, data);
    if (opts.durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    removeQuietly(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    if (gid !== undefined && gid >= 0) {
      try {
        chownSync(tmp, -1, gid);
      } catch {
        // not in that group: the file keeps ours
      }
    }
    renameSync(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

export function removeQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Inode of a path (without following symlinks), or null. Used to detect a file being replaced. */
export function inodeOf(path: string): number | null {
  try {
    return lstatSync(path).ino;
  } catch {
    return null;
  }
}

/**
 * Which version of a file this is: inode, size and modification time. A file rewritten in place
 * (`cp` over it) keeps its inode, so the inode alone cannot tell that it changed.
 */
export function versionOf(path: string): string | null {
  try {
    const st = lstatSync(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return null;
  }
}

/** Unlinks `path` only if it is a socket: a stale-socket cleanup must never delete a regular file. */
export function unlinkIfSocket(path: string): "removed" | "absent" | "not-a-socket" {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return "absent";
  }
  if (!st.isSocket()) return "not-a-socket";
  return removeQuietly(path) ? "removed" : "absent";
}
