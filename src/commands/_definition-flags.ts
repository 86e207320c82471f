/** Flags that shape a definition (`start`, `restart`), and their translation to definition fields. */
import type { DefinitionInput } from "../schema/definition.ts";
import { absolutePath } from "../daemon/state/paths.ts";
import { badValue, bool, list, str, type FlagSpecs, type ParsedArgv } from "./_argv.ts";
import { durationFlag, probeTimeout } from "./_shared.ts";
import { withoutHostSpec } from "../schema/host-spec.ts";
import type { StartOptions } from "../daemon/client/spawner.ts";
import type { Dirs } from "../daemon/state/paths.ts";
import type { Sharing } from "../daemon/state/sharing.ts";
import type { Logger } from "../logger.ts";
import { UsageError } from "../errors.ts";
import { readFileSync } from "node:fs";

export const definitionFlags = {
  definition: { type: "string", description: "The whole definition as JSON (a config entry's keys; inline {…} or a FILE); the other flags override its keys, -- CMD its command", valueHint: "JSON|FILE" },
  watch: { type: "string", multiple: true, description: "Config file whose content decides freshness (repeatable)", valueHint: "FILE" },
  cwd: { type: "string", description: "Working directory of the command", valueHint: "DIR" },
  env: { type: "string", multiple: true, description: "Extra environment variable (repeatable)", valueHint: "K=V" },
  "env-file": { type: "string", multiple: true, description: "Env file in dotenv syntax, read at each start; -FILE if it may be missing (repeatable, later ones win, --env wins over them)", valueHint: "FILE" },
  ready: { type: "string", description: "Readiness: none, notify, fd:N, tcp:HOST:PORT, unix:PATH, log:REGEX, exec:COMMAND, delay:DURATION", valueHint: "SPEC" },
  restart: { type: "string", description: "Restart policy: no, on-failure (default) or always", valueHint: "POLICY" },
  "stop-signal": { type: "string", description: "Signal that asks the daemon to stop (default SIGTERM)", valueHint: "SIGNAL" },
  "stop-timeout": { type: "string", description: "Time to stop before SIGKILL, seconds or 500ms/8s/2m (default 8s)", valueHint: "DURATION" },
  "ready-timeout": { type: "string", description: "Time to become ready before the child is killed (default 10s)", valueHint: "DURATION" },
  oneshot: { type: "boolean", description: "A task that runs to completion: start waits for it and exits with its exit code" },
  once: { type: "boolean", description: "With --oneshot: record its success and never run it again (for this definition)" },
  watchdog: { type: "string", description: "Watchdog period: the daemon must send WATCHDOG=1 over NOTIFY_SOCKET within each (at least 100ms)", valueHint: "DURATION" },
  health: { type: "string", description: "Health check: http://HOST:PORT/PATH, tcp:HOST:PORT, unix:PATH or exec:COMMAND", valueHint: "CHECK" },
  "health-interval": { type: "string", description: "Time from the end of one health check to the next (default 30s)", valueHint: "DURATION" },
  "health-timeout": { type: "string", description: "Time a health check may take before it fails (default 30s)", valueHint: "DURATION" },
  "health-retries": { type: "string", description: "Failed health checks in a row that make the daemon unhealthy (default 3)", valueHint: "N" },
  "health-start-period": { type: "string", description: "Health check failures within this time from the start do not count (default 0s)", valueHint: "DURATION" },
} as const satisfies FlagSpecs;

export const waitFlags = {
  wait: { type: "string", description: "How long to wait for readiness, seconds or 500ms/8s/2m (default 10s; raised, with a note, to the readiness timeout)", valueHint: "DURATION" },
  "no-wait": { type: "boolean", description: "Return as soon as the host is launched" },
} as const satisfies FlagSpecs;

/**
 * `--definition`: a whole definition, as a config entry's keys (what the library hands the binary).
 * Inline when it starts with `{` (or `[`, to say it is not an object), else a file. Relative paths in it
 * resolve against the current directory, as on the command line. Checked like any definition later.
 */
export function definitionBase(p: ParsedArgv): Record<string, unknown> | undefined {
  const v = str(p, "definition");
  if (v === undefined) return undefined;
  let text = v;
  if (!/^\s*[{[]/.test(v)) {
    try {
      text = readFileSync(absolutePath(v), "utf8");
    } catch (e) {
      throw new UsageError(`--definition: cannot read ${v}: ${(e as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--definition: not JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError("--definition: must be a JSON object (a config entry's keys, such as {\"command\": [\"sleep\", \"100\"]})");
  return parsed as Record<string, unknown>;
}

/** Definition fields given as flags; paths made absolute against the caller's directory. */
export function definitionOverrides(p: ParsedArgv): Partial<DefinitionInput> {
  const out: Partial<DefinitionInput> = {};
  const abs = (x: string) => absolutePath(x);
  const watch = list(p, "watch");
  if (watch.length) out.watch = watch.map(abs);
  const cwd = str(p, "cwd");
  if (cwd !== undefined) out.cwd = abs(cwd);
  const env = list(p, "env");
  if (env.length) {
    out.env = {};
    for (const kv of env) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw badValue("env", kv, "an environment variable", "NAME=VALUE, such as PORT=8000");
      out.env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  const envFile = list(p, "env-file");
  // The optional marker stays in front of the absolute path: "-app.env" → "-/cwd/app.env".
  if (envFile.length) out.envFile = envFile.map((f) => (f.startsWith("-") && f.length > 1 ? `-${abs(f.slice(1))}` : f === "-" || f === "" ? f : abs(f)));
  const ready = str(p, "ready");
  if (ready !== undefined) out.ready = ready;
  const restart = str(p, "restart");
  if (restart !== undefined) out.restart = restart as DefinitionInput["restart"];
  const stopSignal = str(p, "stop-signal");
  if (stopSignal !== undefined) out.stopSignal = stopSignal;
  // Parsed here so a bad value names its flag; passed on as "Nms", which the schema reads back exactly.
  const stopTimeout = durationFlag(p, "stop-timeout");
  if (stopTimeout !== undefined) out.stopTimeout = `${stopTimeout}ms`;
  if (p.flags.oneshot === true) out.type = "oneshot";
  if (p.flags.once === true) out.once = true;
  const readyTimeout = durationFlag(p, "ready-timeout");
  if (readyTimeout !== undefined) out.readyTimeout = `${readyTimeout}ms`;
  const watchdog = durationFlag(p, "watchdog");
  if (watchdog !== undefined) out.watchdog = `${watchdog}ms`;
  const health = healthOverrides(p);
  if (health) out.health = health;
  return out;
}

const HEALTH_TUNING = ["health-interval", "health-timeout", "health-retries", "health-start-period"] as const;

/** `--health CHECK` and its tuning flags; the tuning alone has no check to tune. */
function healthOverrides(p: ParsedArgv): DefinitionInput["health"] | undefined {
  const check = str(p, "health");
  if (check === undefined) {
    const stray = HEALTH_TUNING.find((k) => str(p, k) !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --health CHECK (the check it tunes)`);
    return undefined;
  }
  const ms = (key: string) => {
    const v = durationFlag(p, key);
    return v === undefined ? undefined : `${v}ms`;
  };
  const retriesText = str(p, "health-retries");
  let retries: number | undefined;
  if (retriesText !== undefined) {
    retries = Number(retriesText);
    if (!/^\d+$/.test(retriesText) || retries < 1) throw badValue("health-retries", retriesText, "a whole number of at least 1", "1, 3 or 5");
  }
  const given = { interval: ms("health-interval"), timeout: ms("health-timeout"), retries, startPeriod: ms("health-start-period") };
  return { check, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}

/**
 * What `start`, `start --all`/`--procfile` and `restart` pass to the spawner from their flags:
 * the wait (`--wait`, `--no-wait`), the probe timeout, the caller's environment.
 */
export function startOptionsFrom(p: ParsedArgv, ctx: { dirs: Dirs; sharing: Sharing }, log: Logger): Omit<StartOptions, "resolved"> {
  return {
    dirs: ctx.dirs,
    sharing: ctx.sharing,
    probeTimeoutMs: probeTimeout(p),
    waitMs: bool(p, "no-wait") ? null : durationFlag(p, "wait", 10_000),
    waitGiven: str(p, "wait") !== undefined,
    env: withoutHostSpec(process.env),
    log,
  };
}
