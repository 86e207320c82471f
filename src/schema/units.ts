/**
 * Parsing of the units people write: durations, byte sizes, signal names. Plain functions with
 * no zod, so code that only needs a number (a CLI flag, a signal to send) stays light.
 */
/** Daemon names double as file names, so they must be safe path components. */
export const DAEMON_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `8s`, `2m`, `1h` or a bare integer of milliseconds; null when malformed. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const m = DURATION_RE.exec(trimmed);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

export const SIZE_RE = /^(\d+)(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?$/;
const SIZE_UNIT: Record<string, number> = {
  B: 1, K: 1024, KB: 1024, KiB: 1024, M: 1024 ** 2, MB: 1024 ** 2, MiB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3, GiB: 1024 ** 3,
};

/** Parses `10MB`, `512K` or integer bytes; null when malformed. */
export function parseSize(value: string | number): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : null;
  const m = SIZE_RE.exec(value.trim());
  return m ? Number(m[1]) * SIZE_UNIT[m[2] ?? "B"]! : null;
}

/** Linux signal names in number order (SIGHUP = 1). */
export const SIGNAL_NAMES = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
  "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN",
  "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** Accepts `SIGTERM`, `TERM`, `term` or a number, and yields the canonical `SIGTERM` name. */
export function normalizeSignal(value: string | number): SignalName | null {
  if (typeof value === "number" || /^\d+$/.test(String(value))) return SIGNAL_NAMES[Number(value) - 1] ?? null;
  const upper = String(value).toUpperCase();
  const name = (upper.startsWith("SIG") ? upper : `SIG${upper}`) as SignalName;
  return SIGNAL_NAMES.includes(name) ? name : null;
}

/** Linux signal number of a canonical name. */
export function signalNumber(name: SignalName): number {
  return SIGNAL_NAMES.indexOf(name) + 1;
}
