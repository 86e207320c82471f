/**
 * `dependsOn` ordering: start levels (a daemon after everything it depends on). Pure. Here,
 * below both, so that loading a config (every command) and `supervise` judge it alike: an
 * undefined dependency or a cycle is an error wherever the config is read.
 */

export interface OrderProblem {
  kind: "unknown-dependency" | "cycle";
  message: string;
}

/**
 * Groups names into levels: level 0 depends on nothing, level n only on levels < n. A dependency
 * outside `selected` is ignored when `known` has it (the operator narrowed the set) and is an
 * error otherwise.
 */
export function dependencyLevels(deps: Map<string, string[]>, known: Set<string>): { levels: string[][] } | { problem: OrderProblem } {
  for (const [name, ds] of deps) {
    for (const d of ds) {
      if (!known.has(d)) return { problem: { kind: "unknown-dependency", message: `${name} depends on "${d}", which is not defined in the config` } };
    }
  }
  const remaining = new Map([...deps].map(([n, ds]) => [n, ds.filter((d) => deps.has(d))]));
  const levels: string[][] = [];
  const placed = new Set<string>();
  while (remaining.size) {
    const level = [...remaining].filter(([, ds]) => ds.every((d) => placed.has(d))).map(([n]) => n).sort();
    if (!level.length) {
      return { problem: { kind: "cycle", message: `dependsOn has a cycle among: ${findCycle(remaining).join(" -> ")}` } };
    }
    for (const n of level) {
      placed.add(n);
      remaining.delete(n);
    }
    levels.push(level);
  }
  return { levels };
}

function findCycle(graph: Map<string, string[]>): string[] {
  const visiting: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string): string[] | null => {
    const at = visiting.indexOf(n);
    if (at >= 0) return [...visiting.slice(at), n];
    if (seen.has(n)) return null;
    seen.add(n);
    visiting.push(n);
    for (const d of graph.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    visiting.pop();
    return null;
  };
  for (const n of graph.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return [...graph.keys()];
}
