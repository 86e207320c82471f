/** The supervise prefixer: byte-level, UTF-8 safe, chunk-boundary safe. */
import { describe, expect, test } from "bun:test";
import { LineCollector, LinePrefixer, prefixBytes } from "../../src/supervise/output.ts";
import { dependencyLevels, selectDaemons } from "../../src/supervise/order.ts";

const enc = new TextEncoder();
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function run(chunks: (string | number[])[], prefix = "[x] "): string {
  const p = new LinePrefixer(enc.encode(prefix));
  const parts: Uint8Array[] = chunks.map((c) => p.transform(typeof c === "string" ? enc.encode(c) : new Uint8Array(c)));
  parts.push(p.finish());
  return parts.map(dec).join("");
}

describe("LinePrefixer", () => {
  test("prefixes every line, keeps empty lines", () => expect(run(["a\nb\n\nc\n"])).toBe("[x] a\n[x] b\n[x] \n[x] c\n"));
  test("a line split across chunks gets one prefix", () => expect(run(["hel", "lo\nwor", "ld\n"])).toBe("[x] hello\n[x] world\n"));
  test("a partial last line is finished with a newline", () => expect(run(["no newline"])).toBe("[x] no newline\n"));
  test("nothing written, nothing flushed", () => expect(run([])).toBe(""));
  test("valid multi-byte UTF-8 passes through, also split across chunks", () => {
    const bytes = [...enc.encode("é€😀\n")];
    for (let cut = 0; cut <= bytes.length; cut++) expect(run([bytes.slice(0, cut), bytes.slice(cut)])).toBe("[x] é€😀\n");
  });
  test("invalid bytes become U+FFFD, never an error", () => {
    expect(run([[0x61, 0xff, 0x62, 0x0a]])).toBe("[x] a\uFFFDb\n");
    expect(run([[0xc0, 0xaf, 0x0a]])).toBe("[x] \uFFFD\uFFFD\n"); // overlong
    expect(run([[0xed, 0xa0, 0x80, 0x0a]])).toBe("[x] \uFFFD\uFFFD\uFFFD\n"); // surrogate
    expect(run([[0xe2, 0x82]])).toBe("[x] \uFFFD\n"); // truncated at end of stream
  });
  test("CRLF is kept as the daemon wrote it", () => expect(run(["a\r\nb\r\n"])).toBe("[x] a\r\n[x] b\r\n"));
  test("padding and colour", () => {
    expect(dec(prefixBytes("web", { width: 8, colourIndex: 0, colour: { stdout: false, stderr: false }, format: "text" }, false))).toBe("[web]    ");
    expect(dec(prefixBytes("web", { width: 5, colourIndex: 0, colour: { stdout: true, stderr: true }, format: "text" }, true))).toBe("\x1b[36m[web]\x1b[0m ");
  });
});

describe("LineCollector", () => {
  test("splits lines across chunks and flushes the rest", () => {
    const c = new LineCollector(1000);
    const lines: string[] = [];
    c.push(enc.encode("ab\ncd"), (l) => lines.push(dec(l)));
    c.push(enc.encode("e\nf"), (l) => lines.push(dec(l)));
    c.flush((l) => lines.push(dec(l)));
    expect(lines).toEqual(["ab", "cde", "f"]);
  });
  test("cuts very long lines", () => {
    const c = new LineCollector(4);
    const lines: string[] = [];
    c.push(enc.encode("abcdefgh\n"), (l) => lines.push(dec(l)));
    expect(lines.join("|")).toBe("abcd|efgh|");
  });
});

describe("dependsOn order", () => {
  const known = new Set(["db", "cache", "api", "web", "worker"]);
  test("levels", () => {
    const deps = new Map([["db", []], ["cache", []], ["api", ["db", "cache"]], ["web", ["api"]], ["worker", ["db"]]]);
    expect(dependencyLevels(deps, known)).toEqual({ levels: [["cache", "db"], ["api", "worker"], ["web"]] });
  });
  test("a dependency narrowed out by --only is ignored; an undefined one is an error", () => {
    expect(dependencyLevels(new Map([["api", ["db"]]]), known)).toEqual({ levels: [["api"]] });
    const r = dependencyLevels(new Map([["api", ["nope"]]]), known);
    expect("problem" in r && r.problem.kind).toBe("unknown-dependency");
  });
  test("cycles are reported with the loop", () => {
    const r = dependencyLevels(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]), new Set(["a", "b", "c"]));
    expect("problem" in r && r.problem.message).toContain("a -> b -> c -> a");
  });
  test("selection", () => {
    expect(selectDaemons(["a", "b", "c"], "c, a,zz")).toEqual({ selected: ["a", "c"], unknown: ["zz"] });
    expect(selectDaemons(["a", "b"], undefined)).toEqual({ selected: ["a", "b"], unknown: [] });
  });
});
