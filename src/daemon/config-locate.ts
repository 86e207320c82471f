/** Finding the config file, and reading just its directory keys (cheap: `status` uses this). */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { configLocations } from "../schema/config-locations.ts";

/** `--config`, then `$DAEMONCTL_CONFIG`, then `./daemonctl.json` if it exists. */
export function findConfigPath(flag: string | undefined, env = process.env): { path: string; explicit: boolean } | null {
  if (flag) return { path: resolve(flag), explicit: true };
  if (env.DAEMONCTL_CONFIG) return { path: resolve(env.DAEMONCTL_CONFIG), explicit: true };
  const local = resolve("daemonctl.json");
  return existsSync(local) ? { path: local, explicit: false } : null;
}

/** Only the directory keys, resolved against the config file's directory; null if unreadable. */
export function loadConfigLocations(path: string): { runtimeDir?: string; stateDir?: string } | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
  const parsed = configLocations.safeParse(raw);
  if (!parsed.success) return null;
  const dir = dirname(path);
  return {
    runtimeDir: parsed.data.runtimeDir ? resolve(dir, parsed.data.runtimeDir) : undefined,
    stateDir: parsed.data.stateDir ? resolve(dir, parsed.data.stateDir) : undefined,
  };
}
