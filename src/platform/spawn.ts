/**
 * Every process daemonctl starts goes through `spawnManaged`, which records its pid.
 *
 * The reaper (supervise/reaper.ts) must never collect the exit status of a process the runtime
 * itself waits for: Bun and Deno lose or crash on it. Because `spawn` returns the pid
 * synchronously on the event-loop thread, this set is exact. Both facts:
 * docs/platform-notes.md#children-and-zombies.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

const managed = new Set<number>();

export function isManagedPid(pid: number): boolean {
  return managed.has(pid);
}

export function spawnManaged(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  const pid = child.pid;
  if (pid !== undefined) {
    managed.add(pid);
    // 'exit' fires after the runtime has reaped the pid, so removing it here opens no window.
    child.once("exit", () => managed.delete(pid));
    child.once("error", () => {
      if (child.exitCode !== null || child.signalCode !== null) managed.delete(pid);
    });
  }
  return child;
}
