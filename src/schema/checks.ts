/**
 * Every callback the definition schemas run (refinements, checks, transforms), as named plain
 * functions with no zod. The schemas in definition.ts and common.ts take them from CALLBACKS by
 * name, and the validators generated from those schemas (scripts/gen-validators.ts) call the same
 * functions by the same names: one implementation, so the two cannot disagree on a value.
 *
 * A callback reports a problem by pushing an issue on `ctx.issues` (never through zod's
 * `addIssue`) and never throws: the generated code hands it a plain `{ value, issues }`.
 */
import { normalizeSignal, parseDuration, parseSize } from "./units.ts";

/** systemd refuses shorter watchdog periods in practice; below this a busy host misses beats. */
export const MIN_WATCHDOG_MS = 100;

/** Why a readiness string is malformed, or null when it is valid. */
export function readinessProblem(spec: string): string | null {
  if (spec === "none" || spec === "notify") return null;
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? "" : spec.slice(colon + 1);
  switch (kind) {
    case "tcp": {
      const m = /^(.*):(\d{1,5})$/.exec(rest);
      return m && m[1] && Number(m[2]) > 0 && Number(m[2]) < 65536 ? null : "tcp:HOST:PORT (for example tcp:127.0.0.1:8000)";
    }
    case "unix":
      return rest ? null : "unix:PATH";
    case "log":
      try {
        if (!rest) return "log:REGEX";
        new RegExp(rest);
        return null;
      } catch (e) {
        return `log:REGEX with a valid regular expression (${(e as Error).message})`;
      }
    case "exec":
      return rest.trim() ? null : "exec:COMMAND";
    case "delay":
      return parseDuration(rest) !== null ? null : "delay:DURATION (for example delay:2s)";
    case "fd": {
      if (!/^\d{1,4}$/.test(rest)) return "fd:N, a file descriptor number from 3 up (for example fd:3)";
      return Number(rest) >= 3 ? null : "fd:N with N of 3 or more (0, 1 and 2 are the child's stdin, stdout and stderr)";
    }
    default:
      return "one of none, notify, fd:N, tcp:HOST:PORT, unix:PATH, log:REGEX, exec:COMMAND, delay:DURATION";
  }
}

/** Why a health check string is malformed, or null when it is valid (docs/lifecycle.md#health-checks). */
export function healthCheckProblem(spec: string): string | null {
  const hint = "http://HOST:PORT/PATH, tcp:HOST:PORT, unix:PATH or exec:COMMAND";
  if (spec.startsWith("http://")) {
    try {
      const u = new URL(spec);
      return u.hostname && u.port !== "0" ? null : `${hint} (an http URL with a host)`;
    } catch {
      return `${hint} (not a valid URL)`;
    }
  }
  if (spec.startsWith("tcp:")) return /^tcp:(.+):(\d{1,5})$/.test(spec) && Number(spec.slice(spec.lastIndexOf(":") + 1)) > 0 && Number(spec.slice(spec.lastIndexOf(":") + 1)) < 65536 ? null : `${hint} (for example tcp:127.0.0.1:5432)`;
  if (spec.startsWith("unix:")) return spec.length > 5 ? null : `${hint} (unix: needs a path)`;
  if (spec.startsWith("exec:")) return spec.slice(5).trim() ? null : `${hint} (exec: needs a command)`;
  return hint;
}

/**
 * `delay:N` read from a person means N seconds; stored definitions say the unit, so a bare
 * number there (written by versions before 0.2, where it meant milliseconds) keeps its meaning.
 */
export function withDelayUnit(unit: "s" | "ms"): (spec: string) => string {
  return (spec) => (/^delay:\d+(\.\d+)?$/.test(spec.trim()) ? `${spec.trim()}${unit}` : spec);
}

interface IssueSink {
  issues: unknown[];
}

/** How each callback is attached: the generator needs it to call one the way zod does. */
export type CallbackKind = "refine" | "check" | "transform";

const readyInSeconds = withDelayUnit("s");

let probing = false;

/** What a callback throws while the generator asks which one a compiled helper wraps. */
export class CallbackProbe {
  constructor(readonly name: string) {}
}

/**
 * Runs `f` with every callback answering "I am NAME" (by throwing a CallbackProbe) instead of
 * running: zod's compiler wraps callbacks in closures of its own, and calling one is the only way
 * to learn which callback it wraps. Only scripts/gen-validators.ts uses this.
 */
export function probingCallbacks<T>(f: () => T): T {
  probing = true;
  try {
    return f();
  } finally {
    probing = false;
  }
}

function named<T extends Record<string, (a: never, b: never) => unknown>>(callbacks: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(callbacks)) {
    out[name] = (a: never, b: never) => {
      if (probing) throw new CallbackProbe(name);
      return f(a, b);
    };
  }
  return out as T;
}

/**
 * The callbacks by name. `refine` answers yes or no; `check` (a superRefine) pushes issues;
 * `transform` returns the new value and may push issues.
 */
export const CALLBACKS = named({
  checkReadiness: (value: string, ctx: IssueSink): void => {
    const problem = readinessProblem(value);
    if (problem) ctx.issues.push({ code: "custom", message: `expected ${problem}`, input: value });
  },
  checkHealthCheck: (value: string, ctx: IssueSink): void => {
    const problem = healthCheckProblem(value);
    if (problem) ctx.issues.push({ code: "custom", message: `expected ${problem}`, input: value });
  },
  checkOnceNeedsOneshot: (d: { once?: boolean | undefined; type?: string | undefined }, ctx: IssueSink): void => {
    if (d.once && d.type !== "oneshot") ctx.issues.push({ code: "custom", path: ["once"], message: 'once applies to oneshot tasks: add "type": "oneshot" (or --oneshot)', input: d.once });
  },
  isEnvFilePath: (p: string): boolean => p !== "" && p !== "-",
  isSignal: (v: string | number): boolean => normalizeSignal(v) !== null,
  readyDelayInSeconds: (spec: string): string => readyInSeconds(spec),
  durationToMs: (v: string | number): number => parseDuration(v)!,
  sizeToBytes: (v: string | number): number => parseSize(v)!,
  toSignalName: (v: string | number) => normalizeSignal(v)!,
  watchdogAtLeastMinimum: (ms: number, ctx: IssueSink): number => {
    if (ms < MIN_WATCHDOG_MS) ctx.issues.push({ code: "custom", message: `a watchdog period of at least ${MIN_WATCHDOG_MS}ms`, input: ms });
    return ms;
  },
});

export const CALLBACK_KINDS: Record<keyof typeof CALLBACKS, CallbackKind> = {
  checkReadiness: "check",
  checkHealthCheck: "check",
  checkOnceNeedsOneshot: "check",
  isEnvFilePath: "refine",
  isSignal: "refine",
  readyDelayInSeconds: "transform",
  durationToMs: "transform",
  sizeToBytes: "transform",
  toSignalName: "transform",
  watchdogAtLeastMinimum: "transform",
};
