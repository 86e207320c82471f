/**
 * Bun's once-a-second garbage-collection timer, and how a long-lived process gets rid of it.
 *
 * A Bun process runs a repeating timer on its main thread that starts a garbage collection and
 * reads /proc/self/statm every second. Bun means to slow it to every 30 s once the heap stops
 * changing, but the collection it starts changes the heap, so even an idle `setInterval(f, 1e9)`
 * program wakes up every second forever (measured, Bun 1.4.5: strace, 12 statm reads in 12 s).
 * For an idle init that is nearly all of its CPU. The only switch is the environment variable
 * BUN_GC_TIMER_INTERVAL (or BUN_GC_TIMER_DISABLE), read once when the runtime starts: not a
 * runtime flag, so `--compile-exec-argv` cannot carry it, and setting it from JavaScript is too
 * late. So a long-lived command re-executes itself once with it set (~9 ms, once per process
 * lifetime), unless it is already set. The interval becomes 30 s, Bun's own idle setting;
 * JavaScriptCore's allocation-driven collections are unaffected, so a busy process collects as
 * before.
 *
 * The variable must not reach the daemons (it would change a Bun daemon's behaviour): the
 * re-executed process removes it, and the marker, from its environment before anything runs.
 */

const INTERVAL_ENV = "BUN_GC_TIMER_INTERVAL";
/** Set with INTERVAL_ENV when we set it, so the variable is removed only when it is ours. */
const MARKER_ENV = "DAEMONCTL_GC_TIMER";
/** Bun's own "slow" interval for a heap that does not change. */
const IDLE_INTERVAL_MS = "30000";

interface ExecveProcess {
  execve?(file: string, args: string[], env: NodeJS.ProcessEnv): never;
}

/**
 * For a long-lived process in a compiled Bun binary: re-executes it with the GC timer slowed
 * (it never returns then). Otherwise, or when the exec fails, returns and the process goes on as
 * it is. Must run first: before any signal handler, child or file exists.
 */
export function slowGcTimerForLongLivedProcess(): void {
  if (forgetGcTimerEnv()) return;
  if (process.env[INTERVAL_ENV] !== undefined || process.env.BUN_GC_TIMER_DISABLE !== undefined) return;
  if (!isCompiledBunOnLinux()) return;
  const execve = (process as unknown as ExecveProcess).execve;
  if (typeof execve !== "function") return;
  try {
    // /proc/self/exe: this very binary, even if its path was replaced by an upgrade meanwhile.
    execve.call(process, "/proc/self/exe", [process.argv0, ...process.argv.slice(2)], { ...process.env, [INTERVAL_ENV]: IDLE_INTERVAL_MS, [MARKER_ENV]: "1" });
  } catch {
    // Not executable any more, or no /proc: run on with Bun's default timer.
  }
}

function isCompiledBunOnLinux(): boolean {
  if (process.platform !== "linux" || !("Bun" in globalThis) || "Deno" in globalThis) return false;
  const main = process.argv[1] ?? "";
  return main.startsWith("/$bunfs/");
}

/**
 * A process started with the slowed timer (re-executed, or a host launched by `start` with
 * `slowGcTimerEnv`): removes the variable, when it is ours, so no child inherits it. Returns
 * whether the marker was there.
 */
export function forgetGcTimerEnv(): boolean {
  if (process.env[MARKER_ENV] === undefined) return false;
  if (process.env[MARKER_ENV] === "1") delete process.env[INTERVAL_ENV];
  delete process.env[MARKER_ENV];
  return true;
}

/**
 * What a launcher adds to the environment of a long-lived daemonctl process it starts (the
 * detached host of `start`): the slowed timer from its first instant, at no cost, instead of a
 * re-exec. Nothing when the operator chose a setting of their own.
 */
export function slowGcTimerEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env[INTERVAL_ENV] !== undefined || env.BUN_GC_TIMER_DISABLE !== undefined) return {};
  return { [INTERVAL_ENV]: IDLE_INTERVAL_MS, [MARKER_ENV]: "1" };
}
