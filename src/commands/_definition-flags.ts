/** Flags that shape a definition (`start`, `restart`), and their translation to definition fields. */
import type { DefinitionInput } from "../schema/definition.ts";
import { absolutePath } from "../daemon/state/paths.ts";
import { badValue, list, str, type FlagSpecs, type ParsedArgv } from "./_argv.ts";

export const definitionFlags = {
  watch: { type: "string", multiple: true, description: "Config file whose content decides freshness (repeatable)", valueHint: "FILE" },
  cwd: { type: "string", description: "Working directory of the command", valueHint: "DIR" },
  env: { type: "string", multiple: true, description: "Extra environment variable (repeatable)", valueHint: "K=V" },
  ready: { type: "string", description: "Readiness: none, tcp:HOST:PORT, unix:PATH, log:REGEX, exec:COMMAND, delay:DURATION", valueHint: "SPEC" },
  restart: { type: "string", description: "Restart policy: no, on-failure (default) or always", valueHint: "POLICY" },
  "stop-signal": { type: "string", description: "Signal that asks the daemon to stop (default SIGTERM)", valueHint: "SIGNAL" },
  "stop-timeout": { type: "string", description: "Time to stop before SIGKILL (default 8s)", valueHint: "DURATION" },
} as const satisfies FlagSpecs;

export const waitFlags = {
  wait: { type: "string", description: "How long to wait for readiness (default 10s; never less than the readiness timeout)", valueHint: "DURATION" },
  "no-wait": { type: "boolean", description: "Return as soon as the host is launched" },
} as const satisfies FlagSpecs;

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
  const ready = str(p, "ready");
  if (ready !== undefined) out.ready = ready;
  const restart = str(p, "restart");
  if (restart !== undefined) out.restart = restart as DefinitionInput["restart"];
  const stopSignal = str(p, "stop-signal");
  if (stopSignal !== undefined) out.stopSignal = stopSignal;
  const stopTimeout = str(p, "stop-timeout");
  if (stopTimeout !== undefined) out.stopTimeout = /^\d+$/.test(stopTimeout) ? Number(stopTimeout) : stopTimeout;
  return out;
}
