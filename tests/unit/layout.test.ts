/**
 * The folder tree draws the architecture (docs/how-it-works.md#source-layout): these rules
 * keep it true. Imports are read from the source, static and dynamic alike.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { ROOT } from "../helpers/harness.ts";

const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/**
 * file (relative to src/) → the src files it imports, type-only imports included; with
 * `lazy`, `import()` calls too. A lazy loader (the command registry's) names a module to load on
 * demand and is no load-time dependency, so cycles are judged without them; layers are not.
 */
function importGraph(lazy: boolean): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const spec = lazy ? /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+\.ts)["']/g : /from\s*["'](\.{1,2}\/[^"']+\.ts)["']/g;
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    const deps = [...text.matchAll(spec)].map((m) => relative(SRC, normalize(join(dirname(file), m[1]!))));
    graph.set(relative(SRC, file), [...new Set(deps)]);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === "open") found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}

const graph = importGraph(true);
const arrows = [...graph].flatMap(([from, deps]) => deps.map((to) => ({ from, to })));
const under = (path: string, folder: string) => path.startsWith(`${folder}/`);

describe("source layout", () => {
  test("every import resolves to a file under src/", () => {
    const missing = arrows.filter(({ to }) => !graph.has(to)).map(({ from, to }) => `${from} -> ${to}`);
    expect(missing).toEqual([]);
  });

  test("no import cycles (lazy loaders aside)", () => {
    expect(cycles(importGraph(false)).map((c) => c.join(" -> "))).toEqual([]);
  });

  test("client/ and host/ never import each other", () => {
    const back = arrows
      .filter(({ from, to }) => (under(from, "daemon/client") && under(to, "daemon/host")) || (under(from, "daemon/host") && under(to, "daemon/client")))
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(back).toEqual([]);
  });

  test("each layer imports only the layers beneath it", () => {
    // Lower number = lower layer; a file may import its own layer or lower ones.
    const layers: Array<[string, number]> = [
      ["schema", 0],
      ["platform", 1],
      ["daemon/state", 2],
      ["daemon/definition", 3],
      ["daemon/wire", 3],
      ["daemon/owner", 4],
      ["daemon/host", 5],
      ["daemon/client", 5],
      ["supervise", 6],
      ["commands", 7],
    ];
    const layerOf = (p: string) => layers.find(([folder]) => under(p, folder))?.[1];
    const up = arrows
      .filter(({ from, to }) => {
        const a = layerOf(from);
        const b = layerOf(to);
        return a !== undefined && b !== undefined && b > a;
      })
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(up).toEqual([]);
  });
});
