/**
 * Building blocks shared by every daemonctl JSON shape.
 *
 * All schemas use `zod/mini`: it is the same zod, but its functional API lets the bundler keep
 * the `status` start-up path small (full zod costs ~5 ms of start-up, mini ~1 ms; measured in
 * bench/).
 */
import * as z from "zod/mini";

/** Daemon names double as file names, so they must be safe path components. */
export const DAEMON_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const daemonName = z.string().check(
  z.regex(DAEMON_NAME_RE, "a daemon name: letters, digits, '.', '_' or '-', at most 64, not starting with a symbol"),
);

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

/** A duration in a JSON file: integer milliseconds or a string like "8s"; parses to milliseconds. */
export const duration = z.pipe(
  z.union([
    z.int().check(z.minimum(0)),
    z.string().check(z.regex(DURATION_RE, 'a duration like "500ms", "8s", "2m" or integer milliseconds')),
  ]),
  z.transform((v) => parseDuration(v)!),
);

export const SIZE_RE = /^(\d+)(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?$/;
const SIZE_UNIT: Record<string, number> = {
  B: 1, K: 1024, KB: 1024, KiB: 1024, M: 1024 ** 2, MB: 1024 ** 2, MiB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3, GiB: 1024 ** 3,
};
export function parseSize(value: string | number): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : null;
  const m = SIZE_RE.exec(value.trim());
  return m ? Number(m[1]) * SIZE_UNIT[m[2] ?? "B"]! : null;
}
/** A byte size: integer bytes or a string like "10MB". */
export const byteSize = z.pipe(
  z.union([z.int().check(z.minimum(0)), z.string().check(z.regex(SIZE_RE, 'a size like "10MB", "512K" or integer bytes'))]),
  z.transform((v) => parseSize(v)!),
);

/** Process start identity: `<boot id>:<start time in clock ticks>` on Linux. */
export const processIdentity = z.string().check(z.minLength(1));

export const isoTime = z.string();

export const SIGNAL_NAMES = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
  "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN",
  "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** Accepts `SIGTERM`, `TERM` or a number, and yields the canonical `SIGTERM` name. */
export function normalizeSignal(value: string | number): SignalName | null {
  if (typeof value === "number" || /^\d+$/.test(String(value))) {
    const n = Number(value);
    return SIGNAL_NAMES[n - 1] ?? null;
  }
  const upper = String(value).toUpperCase();
  const name = (upper.startsWith("SIG") ? upper : `SIG${upper}`) as SignalName;
  return SIGNAL_NAMES.includes(name) ? name : null;
}

/** Linux signal number for a canonical name (1-based index of SIGNAL_NAMES). */
export function signalNumber(name: SignalName): number {
  return SIGNAL_NAMES.indexOf(name) + 1;
}

export const signalName = z.pipe(
  z.union([z.string(), z.int()]).check(
    z.refine((v) => normalizeSignal(v) !== null, "a signal name like SIGTERM, TERM or a number 1-31"),
  ),
  z.transform((v) => normalizeSignal(v)!),
);

export const exitInfo = z.object({
  code: z.nullable(z.int()),
  signal: z.nullable(z.string()),
  at: isoTime,
});
export type ExitInfo = z.infer<typeof exitInfo>;
