/** Env files: the dotenv parser, path resolution, and what they add to a definition's identity. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envFileRef, parseDotenv, readEnvFiles } from "../../src/daemon/definition/envfile.ts";
import { definitionIdentity, FreshnessMemo } from "../../src/daemon/definition/freshness.ts";
import { completeDefinition, definitionInputSchema, definitionSchema } from "../../src/schema/definition.ts";
import { absolutePath } from "../../src/daemon/state/paths.ts";

const values = (text: string) => {
  const r = parseDotenv(text);
  if ("problem" in r) throw new Error(`line ${r.line}: ${r.problem}`);
  return r.values;
};
const problem = (text: string) => {
  const r = parseDotenv(text);
  if (!("problem" in r)) throw new Error(`parsed: ${JSON.stringify(r.values)}`);
  return r;
};

describe("dotenv syntax", () => {
  test("KEY=VALUE, export, spaces around =", () => {
    expect(values("A=1\nexport B=2\nC = 3\n  D=4\nexport\tE=5")).toEqual({ A: "1", B: "2", C: "3", D: "4", E: "5" });
  });
  test("a variable named export is still a variable", () => {
    expect(values("export=1")).toEqual({ export: "1" });
  });
  test("single quotes are literal", () => {
    expect(values(String.raw`A='a\nb "c" $HOME #x'`)).toEqual({ A: String.raw`a\nb "c" $HOME #x` });
  });
  test("double quotes: \\n \\\" \\\\ (and \\t, \\r) are escapes; other backslashes stay", () => {
    expect(values(String.raw`A="one\ntwo \"q\" back\\slash \t\r \x"`)).toEqual({ A: 'one\ntwo "q" back\\slash \t\r \\x' });
  });
  test("# comments: full lines, and after whitespace following an unquoted or quoted value", () => {
    expect(values("# comment\n  # indented\nA=1 # note\nB=x#y\nC='q' # note\nD=\"q\"\t# note\nE=a  \t")).toEqual({ A: "1", B: "x#y", C: "q", D: "q", E: "a" });
  });
  test("blank lines, CRLF, a BOM, empty values, no final newline", () => {
    expect(values("\uFEFFA=1\r\n\r\n   \r\nB=\r\nC=''\r\nD=\"\"")).toEqual({ A: "1", B: "", C: "", D: "" });
  });
  test("later lines win; no $VAR expansion", () => {
    expect(values("A=1\nA=2\nB=$A\nC=\"${A}\"")).toEqual({ A: "2", B: "$A", C: "${A}" });
  });
  test("unquoted values keep inner quotes and = signs", () => {
    expect(values("A=a=b\nB=it's\nC=x \"y\"")).toEqual({ A: "a=b", B: "it's", C: 'x "y"' });
  });
  test("a key named __proto__ is a plain variable", () => {
    const v = values("__proto__=x");
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__"]);
  });
  test("a line without = is a problem, with its line number", () => {
    expect(problem("A=1\n\nJUSTAKEY\n")).toMatchObject({ line: 3, problem: expect.stringContaining("expected KEY=VALUE") });
    expect(problem("export A")).toMatchObject({ line: 1 });
  });
  test("a bad key is a problem naming it", () => {
    expect(problem("1A=x")).toMatchObject({ line: 1, problem: expect.stringContaining('"1A" is not a valid variable name') });
    expect(problem("A=1\nFOO-BAR=x")).toMatchObject({ line: 2, problem: expect.stringContaining('"FOO-BAR"') });
    expect(problem("FOO BAR=x")).toMatchObject({ line: 1, problem: expect.stringContaining("expected KEY=VALUE") });
    expect(problem("=x")).toMatchObject({ line: 1, problem: expect.stringContaining("no variable name") });
  });
  test("an unterminated quote is a problem on its line (values do not span lines)", () => {
    expect(problem("A=1\nB=\"open\nC=2")).toMatchObject({ line: 2, problem: expect.stringContaining("unterminated double quote") });
    expect(problem("B='open")).toMatchObject({ line: 1, problem: expect.stringContaining("unterminated single quote") });
    expect(problem(String.raw`B="ends in escape\"`)).toMatchObject({ line: 1 });
  });
  test("text after a closing quote is a problem", () => {
    expect(problem("A='x'y")).toMatchObject({ line: 1, problem: expect.stringContaining("after the closing quote") });
    expect(problem('A="x"#c')).toMatchObject({ line: 1 });
  });
  test("a NUL byte is a problem", () => {
    expect(problem("A=1\nB=a\0b")).toMatchObject({ line: 2 });
  });
});

describe("env file paths", () => {
  test("a leading - marks an optional file", () => {
    expect(envFileRef("-/etc/app.env")).toEqual({ path: "/etc/app.env", optional: true });
    expect(envFileRef("/etc/app.env")).toEqual({ path: "/etc/app.env", optional: false });
  });
  test("relative paths resolve against the base directory, the marker kept; a single one becomes a list; none is omitted", () => {
    const complete = (envFile: unknown) =>
      completeDefinition(definitionInputSchema().parse({ command: ["x"], ...(envFile === undefined ? {} : { envFile }) }), "/srv/app", (b, p) => absolutePath(p, b));
    expect(complete("app.env").envFile).toEqual(["/srv/app/app.env"]);
    expect(complete(["-../etc/a.env", "/abs.env", "-/opt.env"]).envFile).toEqual(["-/srv/etc/a.env", "/abs.env", "-/opt.env"]);
    expect("envFile" in complete(undefined)).toBe(false);
    expect("envFile" in complete([])).toBe(false);
    expect(definitionInputSchema().safeParse({ command: ["x"], envFile: "-" }).success).toBe(false);
    expect(definitionInputSchema().safeParse({ command: ["x"], envFile: [""] }).success).toBe(false);
  });
  test("readEnvFiles: in order, later files win; optional missing is skipped; required missing is a problem", () => {
    const dir = mkdtempSync(join(tmpdir(), "envfile-"));
    try {
      writeFileSync(join(dir, "a.env"), "A=1\nB=1\n");
      writeFileSync(join(dir, "b.env"), "B=2\n");
      writeFileSync(join(dir, "bad.env"), "A=1\nnope\n");
      expect(readEnvFiles([join(dir, "a.env"), `-${join(dir, "none.env")}`, join(dir, "b.env")])).toEqual({ values: { A: "1", B: "2" } });
      expect(readEnvFiles([join(dir, "none.env")])).toEqual({ problem: { path: join(dir, "none.env"), message: expect.stringContaining("no such file") } });
      expect(readEnvFiles([`-${join(dir, "bad.env")}`])).toEqual({ problem: { path: join(dir, "bad.env"), line: 2, message: expect.stringContaining("expected KEY=VALUE") } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("identity", () => {
  const fixed = () =>
    completeDefinition(
      definitionInputSchema().parse({ command: ["python3", "-m", "http.server", "8000"], env: { PORT: "8000" }, ready: "tcp:127.0.0.1:8000", stopTimeout: "5s", health: { check: "tcp:127.0.0.1:8000" } }),
      "/srv/app",
      (b, p) => absolutePath(p, b),
    );

  test("a definition without env files keeps the identity it had before they existed", () => {
    // Computed with the freshness.ts of the commit before env files: a changed value would make
    // every running daemon stale on upgrade.
    expect(definitionIdentity(fixed())).toBe("sha256:fc01d5d9b67aeb78531773c926143552");
  });

  test("an env file's content counts, its mtime does not; a stored definition keeps envFile", () => {
    const dir = mkdtempSync(join(tmpdir(), "envfile-"));
    try {
      const file = join(dir, "app.env");
      writeFileSync(file, "A=1\n");
      const def = { ...fixed(), envFile: [file] };
      expect(definitionSchema().parse(JSON.parse(JSON.stringify(def))).envFile).toEqual([file]);
      const first = definitionIdentity(def);
      expect(first).not.toBe(definitionIdentity(fixed()));
      writeFileSync(file, "A=1\n");
      expect(definitionIdentity(def)).toBe(first);
      writeFileSync(file, "A=2\n");
      expect(definitionIdentity(def)).not.toBe(first);
      // Optional or not is part of the definition.
      expect(definitionIdentity({ ...def, envFile: [`-${file}`] })).not.toBe(definitionIdentity(def));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the remembered freshness follows a file's edits, young (hashed each time) or trusted by stat", () => {
    const dir = mkdtempSync(join(tmpdir(), "envfile-"));
    try {
      const file = join(dir, "app.env");
      writeFileSync(file, "A=1\n");
      const def = { ...fixed(), envFile: [file] };
      const identity = definitionIdentity(def);
      for (const memo of [new FreshnessMemo(), new FreshnessMemo(0n)]) {
        expect(memo.isFresh(def, identity)).toBe(true);
        expect(memo.isFresh(def, identity)).toBe(true);
        writeFileSync(file, "A=22\n");
        expect(memo.isFresh(def, identity)).toBe(false);
        writeFileSync(file, "A=1\n");
        expect(memo.isFresh(def, identity)).toBe(true);
        expect(memo.isFresh(def, "sha256:other")).toBe(false);
        rmSync(file);
        expect(memo.isFresh(def, identity)).toBe(false);
        writeFileSync(file, "A=1\n");
      }
      // Young, a same-size edit is seen too: the stat is not trusted, the content is hashed.
      const memo = new FreshnessMemo();
      expect(memo.isFresh(def, identity)).toBe(true);
      writeFileSync(file, "A=2\n");
      expect(memo.isFresh(def, identity)).toBe(false);
      // No files: nothing to go stale but the definition and the identity.
      const plain = fixed();
      expect(memo.isFresh(plain, definitionIdentity(plain))).toBe(true);
      expect(memo.isFresh(plain, definitionIdentity(plain))).toBe(true);
      expect(memo.isFresh({ ...plain, stopTimeout: 1 }, definitionIdentity(plain))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
