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
