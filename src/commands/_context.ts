/** What commands that start or host daemons need: the validated config, directories, sharing. */
import { loadConfig, type LoadedConfig } from "../daemon/definition/config.ts";
import { findConfigPath } from "../daemon/definition/locate.ts";
import { absolutePath, checkDirsUsable, resolveDirs, type Dirs } from "../daemon/state/paths.ts";
import { sharingFor, type Sharing } from "../daemon/state/sharing.ts";
import { resolveGroup } from "../platform/users.ts";
import { UsageError } from "../errors.ts";
import { str, type ParsedArgv } from "./_argv.ts";

export interface FullContext {
  config: LoadedConfig | null;
  dirs: Dirs;
  sharing: Sharing;
}

/** Loads and validates the config file (exit 2 on any problem), then resolves directories. */
export async function fullContext(p: ParsedArgv): Promise<FullContext> {
  const found = await findConfigPath(str(p, "config"));
  const config = found ? loadConfig(found.path) : null;
  const c = config?.config;
  const dirs = await resolveDirs({
    runtimeDir: str(p, "runtime-dir"),
    stateDir: str(p, "state-dir"),
    configRuntimeDir: c?.runtimeDir ? absolutePath(c.runtimeDir, config!.dir) : undefined,
    configStateDir: c?.stateDir ? absolutePath(c.stateDir, config!.dir) : undefined,
  });
  await checkDirsUsable(dirs);
  let gid: number | undefined;
  if (c?.socketGroup !== undefined) {
    const g = resolveGroup(c.socketGroup);
    if (g === null) throw new UsageError(`${config!.path}: socketGroup: unknown group "${c.socketGroup}"`);
    gid = g;
  }
  return { config, dirs, sharing: sharingFor(c?.socketMode, gid) };
}
