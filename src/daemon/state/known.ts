/**
 * Every daemon name known in the runtime and state directories (for `status`, `list`, `--all`),
 * and whether a name is known at all (an unknown one is an error, not `stopped`).
 */
import { entryExists, nodeFs } from "../../platform/files.ts";
import type { Dirs } from "./paths.ts";
import { daemonFiles, isValidName } from "./paths.ts";

/** Every daemon known here or defined in the config (`configured`): `list`, `--all`, `metrics`. */
export function knownAndConfigured(dirs: Dirs, configured: string[]): string[] {
  return [...new Set([...knownDaemons(dirs), ...configured])].sort();
}

function namesIn(dir: string, suffixes: string[]): string[] {
  let entries: string[];
  try {
    entries = nodeFs().readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    for (const suffix of suffixes) {
      if (entry.endsWith(suffix)) {
        const name = entry.slice(0, -suffix.length);
        if (isValidName(name)) out.push(name);
      }
    }
  }
  return out;
}

export function knownDaemons(dirs: Dirs): string[] {
  const names = new Set([...namesIn(dirs.runtimeDir, [".sock"]), ...namesIn(dirs.stateDir, [".state.json"])]);
  return [...names].sort();
}

/**
 * Whether anything on disk speaks of this daemon: its state file (a definition or an intent),
 * its socket, its metadata, or its spawn lock: a `start` holds that before it writes anything
 * else, and a `stop` racing it must wait for it, not call the name unknown. (A name only in the
 * config file is checked by the caller.)
 */
export function leftTraces(dirs: Dirs, name: string): boolean {
  const f = daemonFiles(dirs, name);
  return [f.state, f.socket, f.metadata, f.spawnLock].some((path) => entryExists(path));
}

/** `no daemon named ghost (known: a, b)`: the error for a name defined nowhere. */
export function unknownDaemonMessage(names: string[], known: string[]): string {
  const list = known.length ? `known: ${known.join(", ")}` : "none is known yet; start one with daemonctl start NAME -- CMD ARGS";
  return `no daemon named ${names.join(", ")} (${list})`;
}


/** Every file `name` may have left in the two directories (rotated logs and bind paths included). */
export function filesLeftBy(dirs: Dirs, name: string): string[] {
  const r = (suffixes: string[]) => namesOf(dirs.runtimeDir, (e) => suffixes.some((s) => e === `${name}${s}`));
  const bind = namesOf(dirs.runtimeDir, (e) => e.startsWith(`.${name}.b`) && /^\d+\.\d+$/.test(e.slice(name.length + 3)));
  const logs = namesOf(`${dirs.stateDir}/logs`, (e) => e === `${name}.log` || (e.startsWith(`${name}.log.`) && /^\d+$/.test(e.slice(name.length + 5))));
  const state = namesOf(dirs.stateDir, (e) => e === `${name}.state.json` || (e.startsWith(`.${name}.state.json.`) && e.endsWith(".tmp")));
  return [...r([".sock", ".json", ".json.lock", ".json.bind", ".stop.json", ".notify"]), ...bind, ...logs, ...state];
}

function namesOf(dir: string, keep: (entry: string) => boolean): string[] {
  try {
    return nodeFs()
      .readdirSync(dir)
      .filter(keep)
      .map((e) => `${dir}/${e}`);
  } catch {
    return [];
  }
}
