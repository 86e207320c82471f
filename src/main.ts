#!/usr/bin/env bun
/**
 * daemonctl entry point. Deliberately tiny: it picks the command and imports only that.
 *
 * - `status` (without --help) takes a fast path with no citty or consola: health checks run it
 *   every few seconds and its start-up time is its cost.
 * - `__host` is the detached daemon host that `start` launches.
 * - everything else goes through cli.ts.
 */

// The one static import: a few lines with no side effects (evaluated before the code below).
import { slowGcTimerForLongLivedProcess } from "./platform/gc-timer.ts";

// Deno as PID 1 segfaults on an unhandled TERM/INT/HUP (docs/platform-notes.md#signals): no-op
// handlers first, before any import can take time. (The one runtime check outside src/platform:
// it must run before that module could even load.) The real handlers are added later.
if ("Deno" in globalThis && process.pid === 1) {
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => {});
}

const argv = process.argv.slice(2);

// An idle init should not wake up every second for Bun's GC timer: re-executes itself once with
// it slowed, before anything else exists (platform/gc-timer.ts).
/** `supervise` for real (not its --help): an init, with the duties below. Decided once. */
const initRun = argv[0] === "supervise" && !wantsHelp(argv);

if (initRun) slowGcTimerForLongLivedProcess();

/**
 * `supervise` is an init: a SIGTERM that comes before it has a handler is discarded by the kernel
 * for PID 1, and the child would never get it. Synchronous handlers first (within a millisecond
 * of the runtime starting), holding what they get until the signal trap takes over
 * (platform/signals.ts), ~5 ms later once its modules and libc are loaded.
 */
const earlySignals = { held: ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const, queue: [] as string[] };
if (initRun) for (const sig of earlySignals.held) process.on(sig, () => earlySignals.queue.push(sig));

function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

async function main(): Promise<number> {
  const command = argv[0];
  if (initRun) {
    const { FORWARDABLE, armSignals } = await import("./platform/signals.ts");
    await armSignals(FORWARDABLE, earlySignals);
  }
  if (command === "__host") return (await import("./commands/internal-host.ts")).hostMain(argv.slice(1));
  if (command === "status" && !wantsHelp(argv)) return (await import("./commands/status.ts")).default.run(argv.slice(1));
  return (await import("./cli.ts")).runCli(argv);
}

main().then(exit, async (e: unknown) => {
  const [{ CliError }, { writeStderr, writeStdout }] = await Promise.all([import("./errors.ts"), import("./platform/files.ts")]);
  const err = e as Error;
  const code = e instanceof CliError ? e.exitCode : 1;
  if (argv.includes("--json")) await writeStdout(`${JSON.stringify({ error: { code: (e instanceof CliError && e.jsonCode) || (code === 2 ? "usage" : "error"), message: err.message } })}\n`);
  await writeStderr(`daemonctl: ${e instanceof CliError ? err.message : (err.stack ?? String(e))}\n`);
  exit(code);
});

/**
 * Commands write results through platform/files.ts `writeStdout`, which resolves once the bytes
 * are out, so exiting here never cuts piped `--json` output short. (They avoid `process.stdout`:
 * creating it costs ~3 ms in Bun, more than the whole `status` command.)
 */
function exit(code: number): void {
  process.exit(code);
}
