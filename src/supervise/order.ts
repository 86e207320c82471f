/**
 * Which daemons `supervise` runs (`--only`), and their `dependsOn` order (defined with the config
 * loader in daemon/definition/dependencies.ts, so every command rejects the same configs). Pure.
 */

export { dependencyLevels, type OrderProblem } from "../daemon/definition/dependencies.ts";

/** Names selected by `--only a,b` / `DAEMONCTL_DAEMONS=a,b`; unknown names reported separately. */
export function selectDaemons(all: string[], only: string | undefined): { selected: string[]; unknown: string[] } {
  if (!only || !only.trim()) return { selected: all, unknown: [] };
  const wanted = only.split(",").map((s) => s.trim()).filter(Boolean);
  return { selected: all.filter((n) => wanted.includes(n)), unknown: wanted.filter((w) => !all.includes(w)) };
}
