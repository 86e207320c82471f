/**
 * What exactly is spawned for a definition: the argv (wrapped for a watchdog) and the stdio
 * layout (a readiness pipe at fd N), and how long its pipes are waited for once it has exited.
 * Pure apart from `resolveCommand`'s access checks and `outputDrained`'s wait.
 */
import type { ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import type { Readable } from "node:stream";

export type StdioSlot = "ignore" | "pipe";

export interface LaunchSpec {
  file: string;
  args: string[];
  stdio: StdioSlot[];
}

/**
 * systemd's `sd_watchdog_enabled` honours WATCHDOG_USEC only when WATCHDOG_PID is its own pid,
 * which node's spawn cannot know before the exec: a shell learns it (`$$`) and execs the command
 * in its place, so the pid, the environment and the process group stay the daemon's.
 */
export const WATCHDOG_WRAPPER = 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" "$@"';

export function launchSpec(command: string[], watchdog: boolean, readyFd: number | null): LaunchSpec {
  const [file, ...args] = command;
  const stdio: StdioSlot[] = ["ignore", "pipe", "pipe"];
  if (readyFd !== null) {
    while (stdio.length < readyFd) stdio.push("ignore");
    stdio[readyFd] = "pipe";
  }
  if (!watchdog) return { file: file!, args, stdio };
  return { file: "/bin/sh", args: ["-c", WATCHDOG_WRAPPER, file!, ...args], stdio };
}

export type Resolved = { ok: true; path: string } | { ok: false; code: 126 | 127; reason: string };

/**
 * Finds `file` as execvp would (a name with a slash as is, relative to `cwd`; else each PATH
 * entry), so a wrapped command that cannot run still fails at once as `cannot-execute` instead of
 * as a shell's exit 127 that the restart policy would retry.
 */
export function resolveCommand(file: string, pathEnv: string | undefined, cwd: string): Resolved {
  if (file.includes("/")) return checkExecutable(file.startsWith("/") ? file : `${cwd}/${file}`);
  let denied: Resolved | null = null;
  for (const dir of (pathEnv ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const base = dir === "" ? cwd : dir.startsWith("/") ? dir : `${cwd}/${dir}`;
    const r = checkExecutable(`${base}/${file}`);
    if (r.ok) return r;
    if (r.code === 126) denied ??= r;
  }
  return denied ?? { ok: false, code: 127, reason: "command not found" };
}

function checkExecutable(path: string, depth = 0): Resolved {
  try {
    if (!statSync(path).isFile()) return { ok: false, code: 126, reason: "permission denied" };
  } catch {
    return { ok: false, code: 127, reason: "command not found" };
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { ok: false, code: 126, reason: "permission denied" };
  }
  // One level of `#!` (a script run by a script is rare, and must not recurse forever).
  return (depth === 0 ? interpreterProblem(path) : null) ?? { ok: true, path };
}

/**
 * A script whose `#!` interpreter is missing fails in exec with ENOENT; behind the watchdog's
 * shell wrapper that would be the shell's exit 127, which a restart policy retries. Checked here
 * so it fails at once, as it does without the wrapper.
 */
function interpreterProblem(path: string): Resolved | null {
  let head = "";
  try {
    const fd = openSync(path, "r");
    try {
      const buf = Buffer.alloc(256);
      head = buf.subarray(0, readSync(fd, buf, 0, 256, 0)).toString("latin1");
    } finally {
      closeSync(fd);
    }
  } catch {
    return null; // unreadable but executable: exec decides
  }
  if (!head.startsWith("#!")) return null;
  const interpreter = head.slice(2).split("\n")[0]!.trim().split(/\s+/)[0];
  if (!interpreter || !interpreter.startsWith("/")) return null;
  const r = checkExecutable(interpreter, 1);
  return r.ok ? null : { ok: false, code: r.code, reason: `its interpreter ${interpreter}: ${r.reason}` };
}

/**
 * Resolves once a spawned child's stdout and stderr have ended, or after `ms`: something that
 * left its process group may hold them open, so an exit's last output is waited for only so long.
 */
export function outputDrained(child: ChildProcess, ms: number): Promise<void> {
  const ended = (s: Readable | null) =>
    !s || s.readableEnded || s.destroyed ? Promise.resolve() : new Promise<void>((r) => (s.once("end", r), s.once("close", r), s.once("error", r)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  return Promise.race([Promise.all([ended(child.stdout), ended(child.stderr)]).then(() => {}), late]).finally(() => clearTimeout(timer));
}
