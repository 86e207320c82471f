/** Pure logic: policy arithmetic, identity parsing, hashing, argv parsing, config messages. */
import { describe, expect, test } from "bun:test";
import { backoffDelay, shellExitCode, shouldRestart, StartLimiter } from "../../src/daemon/policy.ts";
import { parseProcStat } from "../../src/platform/proc.ts";
import { canonicalJson } from "../../src/daemon/definition/freshness.ts";
import { parseArgv } from "../../src/commands/_argv.ts";
import { formatIssues, jsonSyntaxErrorAt, lineColumn } from "../../src/daemon/definition/config.ts";
import { configSchema } from "../../src/schema/config.ts";
import { effectiveWaitMs } from "../../src/daemon/client/spawner.ts";
import { sharingFor } from "../../src/daemon/state/sharing.ts";
import { UsageError, closest, didYouMean, editDistance } from "../../src/errors.ts";
import { LineReader, LineSplitter } from "../../src/daemon/wire/lines.ts";
import { bindPathOf, daemonFiles, isBindPathOf } from "../../src/daemon/state/paths.ts";

describe("restart policy", () => {
  test("on-failure restarts on non-zero exits and signals only", () => {
    expect(shouldRestart("on-failure", { code: 0, signal: null })).toBe(false);
    expect(shouldRestart("on-failure", { code: 1, signal: null })).toBe(true);
    expect(shouldRestart("on-failure", { code: null, signal: "SIGKILL" })).toBe(true);
    expect(shouldRestart("always", { code: 0, signal: null })).toBe(true);
    expect(shouldRestart("no", { code: 1, signal: null })).toBe(false);
  });
  test("backoff doubles from initial up to max", () => {
    expect([1, 2, 3, 4, 5, 20, 100].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });
  test("start limit: burst starts within the interval, then exhausted; old starts slide out", () => {
    const l = new StartLimiter(3, 1000);
    l.record(0);
    l.record(10);
    expect(l.exhausted(20)).toBe(false);
    l.record(20);
    expect(l.exhausted(30)).toBe(true);
    expect(l.exhausted(1_005)).toBe(false); // the start at 0 slid out
    l.reset();
    expect(l.exhausted(1_006)).toBe(false);
  });
  test("shell exit codes", () => {
    expect(shellExitCode({ code: 3, signal: null })).toBe(3);
    expect(shellExitCode({ code: null, signal: "SIGTERM" })).toBe(143);
  });
  test("a waiter never times out before the readiness it waits for", () => {
    expect(effectiveWaitMs(10_000, 10_000)).toBeGreaterThan(10_000);
    expect(effectiveWaitMs(60_000, 1_000)).toBe(60_000);
  });
});

describe("bind paths name their daemon and process", () => {
  const dirs = { runtimeDir: "/run/d", stateDir: "/var/lib/d" };
  const a = daemonFiles(dirs, "a");
  const ab = daemonFiles(dirs, "a.b1");
  test("a host's own bind path proves it", () => {
    expect(bindPathOf(a, 42, 1)).toBe("/run/d/.a.b42.1");
    expect(isBindPathOf("/run/d/.a.b42.1", a, 42)).toBe(true);
    expect(isBindPathOf("/run/d/.a.b42.17", a, 42)).toBe(true);
  });
  test("another pid, daemon, directory or the old unnamed form does not", () => {
    expect(isBindPathOf("/run/d/.a.b42.1", a, 4)).toBe(false);
    expect(isBindPathOf("/run/d/.a.b421.1", a, 42)).toBe(false);
    expect(isBindPathOf("/run/d/.b42.1", a, 42)).toBe(false);
    expect(isBindPathOf("/run/e/.a.b42.1", a, 42)).toBe(false);
    expect(isBindPathOf(bindPathOf(ab, 42, 1), a, 42)).toBe(false);
    expect(isBindPathOf("/run/d/.a.b1.b42.1", a, 1)).toBe(false);
    expect(isBindPathOf("/run/d/.a.b42.1", ab, 42)).toBe(false);
  });
});

describe("process identity parsing", () => {
  test("comm with spaces and parentheses", () => {
    const line = "1234 (my (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615";
    expect(parseProcStat(1234, line)).toEqual({ pid: 1234, state: "S", ppid: 1, pgrp: 1234, session: 1234, flags: 4194560, startTime: "987654" });
  });
  test("zombies are visible as Z", () => {
    expect(parseProcStat(5, "5 (x) Z 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0")!.state).toBe("Z");
  });
  test("garbage is null", () => expect(parseProcStat(1, "nonsense")).toBeNull());
});

describe("canonical JSON", () => {
  test("key order does not matter, array order does", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});

describe("argv", () => {
  const specs = {
    name: { type: "positional", description: "" },
    watch: { type: "string", multiple: true, description: "" },
    wait: { type: "string", description: "" },
    json: { type: "boolean", description: "" },
    quiet: { type: "boolean", alias: "q", description: "" },
    verbose: { type: "boolean", alias: "v", description: "" },
  } as const;
  test("flags, repeats, --x=y, bundles, and -- rest", () => {
    const p = parseArgv(["web", "--watch", "a", "--watch=b", "-qv", "--wait=5s", "--", "cmd", "--json"], specs, "t");
    expect(p.positionals).toEqual(["web"]);
    expect(p.flags.watch).toEqual(["a", "b"]);
    expect(p.flags.wait).toBe("5s");
    expect(p.flags.quiet).toBe(true);
    expect(p.flags.verbose).toBe(true);
    expect(p.flags.json).toBeUndefined();
    expect(p.rest).toEqual(["cmd", "--json"]);
  });
  test("--no-x negates", () => expect(parseArgv(["--no-wait"], specs, "t").flags.wait).toBe(false));
  test("getopt clusters as tini and dumb-init take them: counted -v, attached values", () => {
    const init = {
      verbose: { type: "boolean", alias: "v", counted: true, description: "" },
      subreaper: { type: "boolean", alias: "s", description: "" },
      "remap-exit": { type: "string", alias: "e", multiple: true, description: "" },
      pdeath: { type: "string", alias: "p", description: "" },
      only: { type: "string", description: "" },
    } as const;
    expect(parseArgv(["-vvv"], init, "t").flags.verbose).toBe(3);
    expect(parseArgv(["-v", "--verbose", "-v"], init, "t").flags.verbose).toBe(3);
    expect(parseArgv(["-vv", "--no-verbose"], init, "t").flags.verbose).toBe(false);
    const p = parseArgv(["-e143", "-e", "3", "-svp", "SIGTERM", "--", "x"], init, "t");
    expect(p.flags).toEqual({ "remap-exit": ["143", "3"], subreaper: true, verbose: 1, pdeath: "SIGTERM" });
    expect(p.rest).toEqual(["x"]);
    expect(parseArgv(["-vpTERM"], init, "t").flags.pdeath).toBe("TERM");
    expect(parseArgv(["-only", "a"], init, "t").flags.only).toBe("a");
    expect(() => parseArgv(["-vx"], init, "t")).toThrow(UsageError);
    expect(() => parseArgv(["-sp"], init, "t")).toThrow(/needs a value/);
  });
  test("unknown flags and missing values are usage errors", () => {
    expect(() => parseArgv(["--nope"], specs, "t")).toThrow(UsageError);
    expect(() => parseArgv(["--wait"], specs, "t")).toThrow(/needs a value/);
    expect(() => parseArgv(["--json=maybe"], specs, "t")).toThrow(UsageError);
  });
});

describe("config messages", () => {
  test("every issue names the file and the path", () => {
    const r = configSchema().safeParse({ daemons: { web: { command: "x", bogus: 1 } }, grace: "soon" });
    expect(r.success).toBe(false);
    const text = formatIssues("/etc/d.json", r.success ? [] : r.error.issues);
    expect(text).toContain("/etc/d.json: daemons.web.command:");
    expect(text).toContain("/etc/d.json: daemons.web.bogus: unknown key");
    expect(text).toContain("/etc/d.json: grace:");
  });
});

describe("sharing", () => {
  test("private by default; a group widens socket, files and dirs for the group only", () => {
    expect(sharingFor(undefined, undefined)).toEqual({ socketMode: 0o600, fileMode: 0o600, dirMode: 0o700, gid: undefined });
    const g = sharingFor(undefined, 100);
    expect(g.socketMode).toBe(0o660);
    expect(g.fileMode).toBe(0o660);
    expect(g.dirMode & 0o777).toBe(0o770);
    expect(g.dirMode & 0o002).toBe(0);
  });
});

describe("directories", () => {
  test("as root, the system paths come before HOME and XDG (containers set HOME=/root)", async () => {
    const { resolveRuntimeDir, resolveStateDir } = await import("../../src/daemon/state/paths.ts");
    const env = { HOME: "/root", XDG_STATE_HOME: "/x/state", XDG_RUNTIME_DIR: "/x/run" };
    if (process.getuid?.() !== 0) {
      console.log("skip: the root directory order needs uid 0");
      return;
    }
    expect(resolveStateDir({}, env)).toBe("/var/lib/daemonctl");
    expect(resolveRuntimeDir({}, env)).toBe("/run/daemonctl");
    expect(resolveStateDir({ configStateDir: "/c" }, env)).toBe("/c");
    expect(resolveStateDir({}, { ...env, DAEMONCTL_STATE_DIR: "/e" })).toBe("/e");
  });
});

describe("line reader", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  test("lines come out one at a time, across chunk boundaries, multi-byte characters intact", () => {
    const r = new LineReader(100);
    r.feed(bytes('{"a":1}\n{"b":'));
    const accented = bytes("2}\nné");
    r.feed(accented.subarray(0, accented.length - 1)); // é split between two chunks
    r.feed(accented.subarray(accented.length - 1));
    r.feed(bytes("e\n\npartial"));
    expect([r.next(), r.next(), r.next(), r.next(), r.next()]).toEqual(['{"a":1}', '{"b":2}', "née", "", null]);
    expect(r.buffered).toBe("partial".length);
    r.feed(bytes("\n"));
    expect(r.next()).toBe("partial");
    expect(r.buffered).toBe(0);
  });

  test("a line over the limit overflows, with or without its newline; lines before it still come out", () => {
    const r = new LineReader(8);
    r.feed(bytes("12345678\n123456789\nok\n"));
    expect([r.next(), r.next(), r.overflowed]).toEqual(["12345678", null, true]);
    const open = new LineReader(8);
    open.feed(bytes("12345"));
    expect(open.next()).toBeNull();
    open.feed(bytes("6789"));
    expect([open.next(), open.overflowed, open.buffered]).toEqual([null, true, 0]);
  });

  test("the push style returns every complete line of each chunk", () => {
    const s = new LineSplitter(100);
    expect(s.push(bytes("a\nb\nc"))).toEqual(["a", "b"]);
    expect(s.push(bytes("\n"))).toEqual(["c"]);
  });
});

describe("boot decision (supervise boot and reconcile share it)", () => {
  test("stopped stays down, failed is not restarted, running starts, no record only with autostart", async () => {
    const { bootAction, emptyState } = await import("../../src/daemon/state/intent.ts");
    const st = (intent: "running" | "stopped", lastState: "failed" | "running" | null) => ({ ...emptyState("x"), intent, lastState });
    expect(bootAction(st("stopped", "running"), true)).toBe("left-down");
    expect(bootAction(st("running", "failed"), true)).toBe("skipped-failed");
    expect(bootAction(st("running", "running"), false)).toBe("start");
    expect(bootAction(null, true)).toBe("start");
    expect(bootAction(null, false)).toBe("left-down");
  });
});

describe("did you mean", () => {
  test("edit distance counts a swap of neighbours as one edit", () => {
    expect(editDistance("jsno", "json")).toBe(1);
    expect(editDistance("stats", "status")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });
  test("suggests only what is close", () => {
    expect(closest("stats", ["start", "status", "stop"])).toBe("status");
    expect(closest("comand", ["command", "cwd", "env"])).toBe("command");
    expect(closest("rec", ["reconcile", "restart"])).toBe("reconcile");
    expect(closest("xyzzy", ["start", "status", "stop"])).toBeNull();
    expect(didYouMean("jsn", ["text", "json"])).toBe(' (did you mean "json"?)');
  });
});

describe("JSON error position", () => {
  test("points at the first character that cannot continue valid JSON", () => {
    const text = '{\n  "a": [1, 2,],\n}';
    const at = jsonSyntaxErrorAt(text)!;
    expect(lineColumn(text, at)).toEqual({ line: 2, column: 14 });
    expect(jsonSyntaxErrorAt('{"a": "ok", "b": [true, null, -1.5e3]}')).toBeNull();
    expect(jsonSyntaxErrorAt('{"a": 1')).toBe(7);
    expect(jsonSyntaxErrorAt('{"a": 1} x')).toBe(9);
  });
});

describe("missing --", () => {
  test("a quoted plain command is split for the suggestion; shell syntax is left quoted", async () => {
    const { withDashDash } = await import("../../src/commands/_argv.ts");
    expect(withDashDash("start", ["w", "python3 -m http.server"], [0, 1], 1)).toBe("daemonctl start w -- python3 -m http.server");
    expect(withDashDash("start", ["w", "sleep", "100"], [0, 1, 2], 1)).toBe("daemonctl start w -- sleep 100");
    expect(withDashDash("start", ["w", 'sh -c "x"'], [0, 1], 1)).toBe(`daemonctl start w -- 'sh -c "x"'`);
  });
});
