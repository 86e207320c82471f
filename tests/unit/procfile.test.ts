/** Procfile parsing and PORT assignment (pure), and `--procfile`'s optional value. */
import { describe, expect, test } from "bun:test";
import { parseProcfile, portOf, procfileInputs } from "../../src/daemon/definition/procfile.ts";
import { parseArgv, type FlagSpecs } from "../../src/commands/_argv.ts";

const entriesOf = (text: string) => {
  const r = parseProcfile(text);
  if ("problem" in r) throw new Error(`line ${r.problem.line}: ${r.problem.message}`);
  return r.entries;
};
const problemOf = (text: string) => {
  const r = parseProcfile(text);
  return "problem" in r ? r.problem : null;
};

describe("parseProcfile", () => {
  test("name: command lines in file order, with their line numbers", () => {
    expect(entriesOf("web: bundle exec puma -p $PORT\nworker:  ./work --queue=a:b  \n")).toEqual([
      { name: "web", command: "bundle exec puma -p $PORT", line: 1 },
      { name: "worker", command: "./work --queue=a:b", line: 2 },
    ]);
  });
  test("blank lines and # comments are skipped; CRLF is tolerated", () => {
    expect(entriesOf("# the app\r\n\r\n   \r\nweb: a\r\n  # indented comment\r\nclock_1: b\r\n")).toEqual([
      { name: "web", command: "a", line: 4 },
      { name: "clock_1", command: "b", line: 6 },
    ]);
  });
  test("a file of comments has no entries", () => {
    expect(entriesOf("# nothing\n\n")).toEqual([]);
  });
  test("a line that is not name: command names its line", () => {
    expect(problemOf("web: a\nthis is not one\n")).toMatchObject({ line: 2 });
    expect(problemOf("web a")).toMatchObject({ line: 1 });
    expect(problemOf("web.1: a")).toMatchObject({ line: 1 }); // foreman's names have no dots
    expect(problemOf(" web: a")).toMatchObject({ line: 1 });
  });
  test("names must be daemon names too", () => {
    expect(problemOf("\n-web: a")).toMatchObject({ line: 2, message: expect.stringContaining("not a daemon name") });
    expect(problemOf(`${"a".repeat(65)}: x`)).toMatchObject({ line: 1 });
  });
  test("an entry without a command, and a name defined twice, are errors", () => {
    expect(problemOf("web:   \n")).toMatchObject({ line: 1, message: expect.stringContaining("no command") });
    expect(problemOf("web: a\n\nweb: b\n")).toEqual({ line: 3, message: '"web" is defined twice (first on line 1)' });
  });
});

describe("PORT, as foreman assigns it", () => {
  test("base + 100 per entry, in file order", () => {
    expect([0, 1, 2].map((i) => portOf(5000, i))).toEqual([5000, 5100, 5200]);
    expect(portOf(65500, 1)).toBeNull();
  });
  test("each entry becomes sh -c COMMAND in the Procfile's directory with its PORT", () => {
    const inputs = procfileInputs(entriesOf("web: echo $PORT\nworker: w\n"), 6000, "/app");
    expect(inputs).toEqual([
      { entry: { name: "web", command: "echo $PORT", line: 1 }, input: { command: ["/bin/sh", "-c", "echo $PORT"], cwd: "/app", env: { PORT: "6000" } } },
      { entry: { name: "worker", command: "w", line: 2 }, input: { command: ["/bin/sh", "-c", "w"], cwd: "/app", env: { PORT: "6100" } } },
    ]);
  });
  test("a port past 65535 names the entry's line", () => {
    expect(procfileInputs(entriesOf("a: x\n\nb: y\n"), 65500, "/")).toMatchObject({ problem: { line: 3 } });
  });
});

describe("a flag with an optional value", () => {
  const specs: FlagSpecs = {
    procfile: { type: "string", optionalValue: "Procfile", description: "" },
    quiet: { type: "boolean", description: "" },
  };
  const parse = (argv: string[]) => parseArgv(argv, specs, "t");
  test("alone it takes its default; =VALUE or a next plain word is the value", () => {
    expect(parse(["--procfile"]).flags.procfile).toBe("Procfile");
    expect(parse(["--procfile", "--quiet"]).flags).toEqual({ procfile: "Procfile", quiet: true });
    expect(parse(["--procfile", "--", "x"])).toMatchObject({ flags: { procfile: "Procfile" }, rest: ["x"] });
    expect(parse(["--procfile=dev.Procfile", "web"])).toMatchObject({ flags: { procfile: "dev.Procfile" }, positionals: ["web"] });
    expect(parse(["--procfile", "dev.Procfile"])).toMatchObject({ flags: { procfile: "dev.Procfile" }, positionals: [] });
    expect(parse(["web", "--procfile"])).toMatchObject({ flags: { procfile: "Procfile" }, positionals: ["web"] });
  });
});
