/**
 * Parsing of the units people write: durations, byte sizes, signal names. Plain functions with
 * no zod, so code that only needs a number (a CLI flag, a signal to send) stays light.
 */
/** Daemon names double as file names, so they must be safe path components. */
export const DAEMON_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A duration as people write it: a number of seconds, or a number with a unit (ms, s, m, h). */
export const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** How to write a duration, for messages about a malformed one. */
export const DURATION_HINT = "use 5 (seconds), 500ms, 8s, 2m or 1h";

/**
 * Parses a duration read from a person (flag, config file, environment, `delay:`) to
 * milliseconds: `500ms`, `8s`, `1.5s`, `2m`, `1h`, or a bare number of seconds (`5`, like
 * `docker stop -t` and systemd); null when malformed. Stored definitions are integer
 * milliseconds and never pass through here.
 */
export function parseDuration(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  const m = DURATION_RE.exec(value.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "s"]!);
}

/**
 * A duration for people: `250 ms`, `3 s`, `1.5 s`, `2 m`, `2 m 30 s`, `1 h 5 m`, `3 d 2 h`. The one
 * formatter of every human message that names a duration.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 10_000 && ms % 1000 !== 0) return `${(Math.floor(ms / 100) / 10).toString()} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m${s % 60 ? ` ${s % 60} s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} m` : ""}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ""}`;
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
