/**
 * The repository owns its contract: code and docs cite only docs/ pages that exist, by headings
 * that exist, and never the early design notes that live outside the repository.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../.."); // not the harness: it needs a built binary

const CODE_DIRS = ["src", "tests", "scripts", "bench"];
const MARKDOWN = ["README.md", "CONTRIBUTING.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const codeFiles = CODE_DIRS.flatMap((d) => filesUnder(join(ROOT, d)));

/** GitHub's heading anchors: lowercased text without punctuation, spaces as hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const f = /^\s*(```|~~~)/.exec(line);
    if (f) {
      fence = fence === null ? f[1]! : fence === f[1] ? null : fence;
      continue;
    }
    const h = fence === null ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line) : null;
    if (!h) continue;
    const text = h[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*]/g, "");
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Ref {
  from: string;
  target: string; // absolute path of the file referred to
  anchor: string | null;
}

/** `docs/<page>.md` and `docs/<page>.md#<anchor>` anywhere in a file, relative to the repository root. */
function rootRefs(file: string, text: string): Ref[] {
  return [...text.matchAll(/\bdocs\/([\w.-]+\.md)(?:#([\w-]+))?/g)].map((m) => ({
    from: relative(ROOT, file),
    target: join(ROOT, "docs", m[1]!),
    anchor: m[2] ?? null,
  }));
}

/** Markdown links to a page (`(protocol.md#<anchor>)`) or an anchor (`(#files)`), relative to the file. */
function linkRefs(file: string, text: string): Ref[] {
  return [...text.matchAll(/\]\(([^)\s]*)\)/g)].flatMap((m) => {
    const [path, anchor] = m[1]!.split("#", 2) as [string, string | undefined];
    if (/^[a-z]+:/i.test(path) || (path !== "" && !path.endsWith(".md"))) return [];
    return [{ from: relative(ROOT, file), target: path === "" ? file : resolve(dirname(file), path), anchor: anchor ?? null }];
  });
}

const allRefs: Ref[] = [
  ...codeFiles.flatMap((f) => rootRefs(f, readFileSync(f, "utf8"))),
  ...MARKDOWN.map((m) => join(ROOT, m))
    .filter((f) => existsSync(f))
    .flatMap((f) => {
      const text = readFileSync(f, "utf8");
      return [...rootRefs(f, text), ...linkRefs(f, text)];
    }),
];

test("no file in src/, tests/, scripts/ or bench/ cites the design notes outside the repository", () => {
  // Spelled in pieces so that this file does not match itself.
  const outside = ["SPEC" + " §", "SPEC" + ".md", "PLATFORM" + ".md"];
  const hits = codeFiles.flatMap((f) => {
    const text = readFileSync(f, "utf8");
    return outside.filter((s) => text.includes(s)).map((s) => `${relative(ROOT, f)}: ${s}`);
  });
  expect(hits).toEqual([]);
});

test("every docs/ reference names an existing page and heading", () => {
  expect(allRefs.length).toBeGreaterThan(60);
  const anchors = new Map<string, Set<string>>();
  const broken = allRefs.flatMap((r) => {
    if (!existsSync(r.target)) return [`${r.from}: ${relative(ROOT, r.target)} does not exist`];
    if (r.anchor === null) return [];
    if (!anchors.has(r.target)) anchors.set(r.target, anchorsOf(readFileSync(r.target, "utf8")));
    return anchors.get(r.target)!.has(r.anchor) ? [] : [`${r.from}: ${relative(ROOT, r.target)}#${r.anchor} has no such heading`];
  });
  expect(broken).toEqual([]);
});

test("heading anchors follow GitHub's rules", () => {
  const a = anchorsOf("# `daemonctl status NAME --json`\n## Other commands' exit codes\n## tini / dumb-init\n```\n# not a heading\n```\n## Files\n## Files\n");
  expect([...a]).toEqual(["daemonctl-status-name---json", "other-commands-exit-codes", "tini--dumb-init", "files", "files-1"]);
});
