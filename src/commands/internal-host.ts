/**
 * `daemonctl __host NAME`: the detached host that `start` launches. Not for humans: its spec
 * arrives in $DAEMONCTL_HOST_SPEC (checked by its schema) and is removed from the environment
 * the child inherits.
 */
import { forgetGcTimerEnv } from "../platform/gc-timer.ts";
import { writeStderr } from "../platform/files.ts";
import { HOST_SPEC_ENV, hostSpecSchema, withoutHostSpec, type HostSpec } from "../schema/host-spec.ts";
import { INVALID, parseHostSpec } from "../schema/generated/definition-validators.ts";
import { runStandaloneHost } from "../daemon/host/standalone.ts";
import { trace } from "../trace.ts";

export async function hostMain(argv: string[]): Promise<number> {
  trace("host: main");
  const raw = process.env[HOST_SPEC_ENV];
  let parsed: unknown = null;
  try {
    parsed = raw ? JSON.parse(raw) : null;
  } catch {
    // reported below
  }
  const spec = parseSpec(parsed);
  if (!spec || spec.name !== argv[0]) {
    await writeStderr(`daemonctl __host: internal command for \`daemonctl start\`; missing or invalid ${HOST_SPEC_ENV}\n`);
    return 2;
  }
  trace("host: spec parsed");
  forgetGcTimerEnv(); // set by `start` for this host only: not for its daemon
  const env = withoutHostSpec(process.env);
  delete process.env[HOST_SPEC_ENV];
  return runStandaloneHost(spec, "detached", null, env);
}

/** The generated validator first: building the zod schema costs a cold host ~2.5 ms. */
function parseSpec(raw: unknown): HostSpec | null {
  const fast = parseHostSpec(raw);
  if (fast !== INVALID) return fast;
  const spec = hostSpecSchema().safeParse(raw);
  return spec.success ? spec.data : null;
}
