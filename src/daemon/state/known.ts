/** Every daemon name known in the runtime and state directories (for `status`, `list`, `--all`). */
import { nodeFs } from "../../platform/files.ts";
import type { Dirs } from "./paths.ts";
import { isValidName } from "./paths.ts";

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

/** Was `name` ever started here (a socket or a state file)? Unknown names are errors, not "stopped". */
export function isKnownDaemon(dirs: Dirs, name: string): boolean {
  return knownDaemons(dirs).includes(name);
}

/** Every file `name` may have left in the two directories (rotated logs and bind paths included). */
export function filesLeftBy(dirs: Dirs, name: string): string[] {
  const r = (suffixes: string[]) => namesOf(dirs.runtimeDir, (e) => suffixes.some((s) => e === `${name}${s}`));
  const bind = namesOf(dirs.runtimeDir, (e) => e.startsWith(`.${name}.b`) && /^\d+\.\d+$/.test(e.slice(name.length + 3)));
  const logs = namesOf(`${dirs.stateDir}/logs`, (e) => e === `${name}.log` || (e.startsWith(`${name}.log.`) && /^\d+$/.test(e.slice(name.length + 5))));
  const state = namesOf(dirs.stateDir, (e) => e === `${name}.state.json` || (e.startsWith(`.${name}.state.json.`) && e.endsWith(".tmp")));
  return [...r([".sock", ".json", ".json.lock", ".json.bind", ".stop.json"]), ...bind, ...logs, ...state];
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
