/** Finding the config file, and reading just its directory keys (cheap: `status` uses this). */
import { INVALID, parseConfigLocations } from "../../schema/generated/validators.ts";
import { fileExists, readText } from "../../platform/files.ts";
import { absolutePath, checkDirsUsable, dirnameOf, resolveDirs, type Dirs } from "../state/paths.ts";

/** `--config`, then `$DAEMONCTL_CONFIG`, then `./daemonctl.json` if it exists. */
export async function findConfigPath(flag: string | undefined, env = process.env): Promise<{ path: string; explicit: boolean } | null> {
  if (flag) return { path: absolutePath(flag), explicit: true };
  if (env.DAEMONCTL_CONFIG) return { path: absolutePath(env.DAEMONCTL_CONFIG), explicit: true };
  const local = absolutePath("daemonctl.json");
  return (await fileExists(local)) ? { path: local, explicit: false } : null;
}

type LightConfig = Exclude<ReturnType<typeof parseConfigLocations>, typeof INVALID>;
/**
 * One read per file and command: `status NAME` wants the directory keys, and for a name that
 * left no trace the daemon names too. (Long-lived processes re-read configs with loadConfig.)
 */
const lightConfigs = new Map<string, Promise<LightConfig | null>>();

/** The config file checked only for the keys `status` needs (no zod); null if unreadable or invalid. */
function readConfigLight(path: string): Promise<LightConfig | null> {
  let read = lightConfigs.get(path);
  if (!read) lightConfigs.set(path, (read = readConfigLightNow(path)));
  return read;
}

async function readConfigLightNow(path: string): Promise<LightConfig | null> {
  const r = await readText(path);
  if (!r.ok) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(r.text);
  } catch {
    return null;
  }
  const parsed = parseConfigLocations(raw);
  return parsed === INVALID ? null : parsed;
}

/** Only the directory keys, resolved against the config file's directory; null if unreadable. */
export async function loadConfigLocations(path: string): Promise<{ runtimeDir?: string; stateDir?: string } | null> {
  const parsed = await readConfigLight(path);
  if (!parsed) return null;
  const dir = dirnameOf(path);
  return {
    runtimeDir: parsed.runtimeDir ? absolutePath(parsed.runtimeDir, dir) : undefined,
    stateDir: parsed.stateDir ? absolutePath(parsed.stateDir, dir) : undefined,
  };
}

/** The daemon names a config file defines (keys of `daemons`), unvalidated; [] if unreadable. */
export async function loadConfigDaemonNames(path: string): Promise<string[]> {
  const daemons = ((await readConfigLight(path)) as { daemons?: unknown } | null)?.daemons;
  return daemons && typeof daemons === "object" && !Array.isArray(daemons) ? Object.keys(daemons) : [];
}

/**
 * The directories of a command or of the library: explicit ones and the environment win over
 * the config file's keys, so when they name both the config is not even looked for. Checked as
 * usable (throws DirError): an unsafe runtime dir is refused for reading too, since a socket
 * planted there could answer with any pid, and stop would signal it; one we may not enter is
 * said plainly, not as an EACCES.
 */
export async function usableDirs(
  o: { runtimeDir?: string | undefined; stateDir?: string | undefined },
  configPath: () => ReturnType<typeof findConfigPath>,
  env = process.env,
): Promise<Dirs> {
  const given = (o.runtimeDir || env.DAEMONCTL_RUNTIME_DIR) && (o.stateDir || env.DAEMONCTL_STATE_DIR);
  const found = given ? null : await configPath();
  const loc = found ? await loadConfigLocations(found.path) : null;
  const dirs = await resolveDirs({ runtimeDir: o.runtimeDir, stateDir: o.stateDir, configRuntimeDir: loc?.runtimeDir, configStateDir: loc?.stateDir }, env);
  await checkDirsUsable(dirs);
  return dirs;
}
