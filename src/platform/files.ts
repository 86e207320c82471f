/**
 * File access for code on the `status` fast path.
 *
 * In a compiled Bun binary, loading node:fs costs about 4 ms and 6 MiB (bench/README.md: as much
 * as a whole hello world), node:path ~0.8 ms. Hot-path reads therefore use the runtime's native file API
 * (`Bun.file`, `Deno.readTextFile`), and everything else gets node:fs lazily through `nodeFs()`,
 * which loads it on first use only.
 */
import { bun, deno } from "./runtime.ts";

type NodeFs = typeof import("node:fs");
let fsModule: NodeFs | undefined;

/** node:fs, loaded on first use. */
export function nodeFs(): NodeFs {
  return (fsModule ??= process.getBuiltinModule("node:fs") as NodeFs);
}

export type ReadOutcome = { ok: true; text: string } | { ok: false; code: "ENOENT" | "EACCES" | "EOTHER"; message: string };

function failure(e: unknown): ReadOutcome {
  const err = e as { code?: string; name?: string; message?: string };
  const text = `${err.code ?? ""} ${err.name ?? ""}`;
  const code = /ENOENT|NotFound/.test(text) ? "ENOENT" : /EACCES|EPERM|PermissionDenied/.test(text) ? "EACCES" : "EOTHER";
  return { ok: false, code, message: err.message ?? String(e) };
}

/** Reads a whole text file (also /proc files, whose size reads as 0). */
export async function readText(path: string): Promise<ReadOutcome> {
  try {
    if (bun) return { ok: true, text: await (globalThis as unknown as { Bun: { file(p: string): { text(): Promise<string> } } }).Bun.file(path).text() };
    if (deno) return { ok: true, text: await (deno as unknown as { readTextFile(p: string): Promise<string> }).readTextFile(path) };
    return { ok: true, text: nodeFs().readFileSync(path, "utf8") };
  } catch (e) {
    return failure(e);
  }
}

/**
 * Whether a directory entry exists (lstat: a dangling symlink or an entry we may not read still
 * counts), or with `kind: "directory"` whether a directory is there (following symlinks). Sync,
 * for code that already pays for node:fs; `fileExists` is the fast path's async one.
 */
export function entryExists(path: string, kind: "any" | "directory" = "any"): boolean {
  try {
    return kind === "directory" ? nodeFs().statSync(path).isDirectory() : (nodeFs().lstatSync(path), true);
  } catch {
    return false;
  }
}

/**
 * Whether something is at `path` (following symlinks): a stat, never a read (`status` asks this
 * of a daemon's log, which may be megabytes). One we may not look at still exists.
 */
export async function fileExists(path: string): Promise<boolean> {
  try {
    if (bun) await (globalThis as unknown as { Bun: { file(p: string): { stat(): Promise<unknown> } } }).Bun.file(path).stat();
    else if (deno) await (deno as unknown as { stat(p: string): Promise<unknown> }).stat(path);
    else nodeFs().statSync(path);
    return true;
  } catch (e) {
    const err = e as { code?: string; name?: string };
    return err.code !== "ENOENT" && err.name !== "NotFound";
  }
}

/**
 * Writes to stdout and resolves once the bytes are out. Bun's `process.stdout` is a Node-style
 * stream whose first use costs ~3 ms; `Bun.write(Bun.stdout, …)` is native.
 */
export async function writeStdout(text: string): Promise<void> {
  const g = globalThis as unknown as { Bun?: { write(dest: unknown, data: string): Promise<number>; stdout: unknown } };
  if (bun && g.Bun) {
    await g.Bun.write(g.Bun.stdout, text);
    return;
  }
  if (deno) {
    const bytes = new TextEncoder().encode(text);
    const out = (deno as unknown as { stdout: { write(b: Uint8Array): Promise<number> } }).stdout;
    for (let off = 0; off < bytes.length; ) off += await out.write(bytes.subarray(off));
    return;
  }
  await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
}

/** The same for stderr (diagnostics on the fast path). */
export async function writeStderr(text: string): Promise<void> {
  const g = globalThis as unknown as { Bun?: { write(dest: unknown, data: string): Promise<number>; stderr: unknown } };
  if (bun && g.Bun) {
    await g.Bun.write(g.Bun.stderr, text);
    return;
  }
  await new Promise<void>((resolve) => process.stderr.write(text, () => resolve()));
}

export interface PathStat {
  isDirectory: boolean;
  isSymbolicLink: boolean;
  uid: number;
  gid: number;
  mode: number;
}

/**
 * `stat` (following symlinks) through the runtime's native API; null when the path is missing
 * or unreadable. For the fast path: `lstat` would need node:fs.
 */
export async function statFollow(path: string): Promise<PathStat | null> {
  try {
    const s = bun
      ? await (globalThis as unknown as { Bun: { file(p: string): { stat(): Promise<import("node:fs").Stats> } } }).Bun.file(path).stat()
      : deno
        ? await (deno as unknown as { stat(p: string): Promise<{ isDirectory: boolean; uid: number; gid: number; mode: number }> }).stat(path).then((d) => ({ isDirectory: () => d.isDirectory, isSymbolicLink: () => false, uid: d.uid, gid: d.gid, mode: d.mode }))
        : nodeFs().statSync(path);
    return { isDirectory: s.isDirectory(), isSymbolicLink: s.isSymbolicLink(), uid: s.uid, gid: s.gid, mode: s.mode };
  } catch {
    return null;
  }
}

/**
 * Whether fd 1 or 2 is a terminal, cheaply: in a compiled Bun binary `process.stdout` or
 * node:tty cost ~10 ms here, more than `status` itself, while a stat of /proc/self/fd/N costs
 * ~0.6 ms. A terminal is a character device of the pty (136-143) or tty (4, 5) majors.
 */
export async function isTerminal(fd: 1 | 2): Promise<boolean> {
  if (deno) return (deno as unknown as Record<string, { isTerminal(): boolean }>)[fd === 1 ? "stdout" : "stderr"]!.isTerminal();
  try {
    const file = (globalThis as unknown as { Bun?: { file(p: string): { stat(): Promise<import("node:fs").Stats> } } }).Bun;
    const s = file ? await file.file(`/proc/self/fd/${fd}`).stat() : nodeFs().fstatSync(fd);
    const major = Math.floor(Number(s.rdev) / 256) & 0xfff;
    return s.isCharacterDevice() && (major === 4 || major === 5 || (major >= 136 && major <= 143));
  } catch {
    return false;
  }
}
