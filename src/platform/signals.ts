/**
 * Signal plumbing. Handlers go through `process.on`, which both runtimes support, except for an
 * init (`supervise`), which takes its signals through the signal trap (signal-trap.ts) where it
 * can; sending goes through `process.kill`. Callers verify identities before they call
 * `sendSignal` on a pid they read from a file (see daemon/identity.ts).
 */
import { isBun } from "./runtime.ts";
import { SIGNAL_NAMES, normalizeSignal, signalNumber, type SignalName } from "../schema/units.ts";

/** Signals no JavaScript handler can take in Bun: they would kill us instead of reaching JS. */
const BUN_UNCATCHABLE = new Set<SignalName>(["SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV", "SIGSYS", "SIGSTKFLT", "SIGPWR"]);
/** Signals Deno refuses to bind at all. */
const DENO_UNCATCHABLE = new Set<SignalName>(["SIGILL", "SIGFPE", "SIGSEGV", "SIGKILL", "SIGSTOP"]);
const NEVER_CATCHABLE = new Set<SignalName>(["SIGKILL", "SIGSTOP", "SIGCHLD"]);

/** What an init is asked to pass on: every signal 1–31 but KILL, STOP and CHLD. */
export const FORWARDABLE: SignalName[] = SIGNAL_NAMES.filter((s) => !NEVER_CATCHABLE.has(s));

function canHandle(sig: SignalName): boolean {
  if (NEVER_CATCHABLE.has(sig)) return false;
  return isBun ? !BUN_UNCATCHABLE.has(sig) : !DENO_UNCATCHABLE.has(sig);
}

/** Installs a handler; returns a function that removes it. */
export function onSignal(sig: SignalName, handler: (sig: SignalName) => void): () => void {
  const fn = () => handler(sig);
  process.on(sig, fn);
  return () => void process.off(sig, fn);
}

/**
 * `kill(pid, sig)` that reports success instead of throwing. Negative pid = process group.
 * Never 0 or -1 (or a non-integer): kill(0) is our own group, kill(-1) every process we may
 * signal. (1 is fine: a container's host may well be PID 1.)
 */
export function sendSignal(pid: number, sig: SignalName | number): boolean {
  if (!Number.isInteger(pid) || pid === 0 || pid === -1) return false;
  try {
    // By number: Bun 1.4.5's process.kill throws "Unknown signal" for SIGSTKFLT and SIGPWR.
    process.kill(pid, typeof sig === "number" ? sig : signalNumber(sig));
    return true;
  } catch {
    return false;
  }
}

export { signalNumber };

/** Signals received by an init, held from the moment they are armed until someone listens. */
export interface SignalSource {
  /** "trap": every armed signal; "runtime": process.on, so only those `canHandle` allows. */
  how: "trap" | "runtime";
  /** Why the trap is not used (null when it is). */
  note: string | null;
  /** Armed signals that cannot be received here: they keep their previous disposition. */
  unwatched(): SignalName[];
  /** Starts delivery (or replaces the handler); signals that arrived earlier come first, in order. */
  listen(handler: (sig: SignalName) => void): void;
  /** Gives a signal back to what handled it before. */
  release(sig: SignalName): void;
}

let armed: Promise<SignalSource> | null = null;
const wanted = new Set<SignalName>();

/**
 * Starts receiving these signals now, holding them until `listen`. The first call decides the
 * mechanism; later calls add signals to it. `supervise` calls this before anything else, so a
 * SIGTERM sent while it starts is not lost.
 */
export async function armSignals(sigs: SignalName[], earlier?: EarlySignals): Promise<SignalSource> {
  armed ??= openSource(earlier ?? { held: [], queue: [] });
  const source = await armed;
  const fresh = sigs.filter((s) => !wanted.has(s));
  for (const s of fresh) wanted.add(s);
  (source as SourceImpl).add(fresh);
  return source;
}

interface SourceImpl extends SignalSource {
  add(sigs: SignalName[]): void;
}

/** The signals main.ts caught with `process.on` before this module loaded, and what they got. */
export interface EarlySignals {
  held: readonly string[];
  queue: string[];
}

/**
 * `earlier` is the queue that main.ts's first handlers fill before this module loads. Those
 * handlers stay registered (removing one could reset the disposition under the trap), and a
 * signal the runtime caught just before the trap replaced them may still be on its way, so the
 * queue keeps feeding the handler after `listen` too.
 */
async function openSource(earlier: EarlySignals): Promise<SignalSource> {
  // The escape hatch (and how tests reach the fallback): runtime handlers only.
  if (process.env.DAEMONCTL_SIGNAL_TRAP === "0") return runtimeSource("DAEMONCTL_SIGNAL_TRAP=0", earlier);
  const { SignalTrap } = await import("./signal-trap.ts");
  const trap = await SignalTrap.open();
  return typeof trap === "string" ? runtimeSource(trap, earlier) : trapSource(trap, earlier);
}

/** Delivers what `earlier` holds, then re-points its `push` at the handler. */
function drainInto(earlier: EarlySignals, deliver: (sig: SignalName) => void): void {
  const take = (s: string) => {
    const sig = normalizeSignal(s);
    if (sig && wanted.has(sig)) deliver(sig);
  };
  for (const s of earlier.queue.splice(0)) take(s);
  earlier.queue.push = (...items: string[]) => {
    for (const s of items) take(s);
    return 0;
  };
}

function trapSource(trap: import("./signal-trap.ts").SignalTrap, earlier: EarlySignals): SourceImpl {
  const failed = new Set<SignalName>();
  return {
    how: "trap",
    note: null,
    add: (sigs) => {
      for (const n of trap.add(sigs.map(signalNumber))) failed.add(SIGNAL_NAMES[n - 1]!);
    },
    unwatched: () => [...failed],
    listen: (handler) => {
      drainInto(earlier, handler);
      trap.listen((n) => {
        const sig = SIGNAL_NAMES[n - 1];
        if (sig && wanted.has(sig)) handler(sig);
      });
    },
    release: (sig) => {
      wanted.delete(sig);
      trap.release(signalNumber(sig));
    },
  };
}

/** Without the trap: process.on for what the runtime allows, queued until `listen`. */
function runtimeSource(note: string, earlier: EarlySignals): SourceImpl {
  let handler: ((sig: SignalName) => void) | null = null;
  const queued: SignalName[] = [];
  const off = new Map<SignalName, () => void>();
  return {
    how: "runtime",
    note,
    add: (sigs) => {
      for (const sig of sigs) {
        // Bun can neither hand SIGSTKFLT to JS nor survive its default: ignoring beats dying.
        if (sig === "SIGSTKFLT" && isBun) void import("./ffi.ts").then(async (f) => (await f.loadLibc())?.ignoreSignal(16));
        // main.ts's early handlers already feed these (see drainInto).
        if (!canHandle(sig) || off.has(sig) || earlier.held.includes(sig)) continue;
        off.set(sig, onSignal(sig, (s) => (handler ? handler(s) : queued.push(s))));
      }
    },
    unwatched: () => [...wanted].filter((s) => !canHandle(s)),
    listen: (h) => {
      handler = h;
      drainInto(earlier, h);
      for (const s of queued.splice(0)) h(s);
    },
    release: (sig) => {
      wanted.delete(sig);
      off.get(sig)?.();
      off.delete(sig);
    },
  };
}
