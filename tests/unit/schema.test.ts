/** Schemas: durations, sizes, signals, definitions, and round trips through files. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatDuration, normalizeSignal, parseDuration, parseSize, signalNumber } from "../../src/schema/common.ts";
import { completeDefinition, definitionInputSchema, millisecondsAsInput, readinessProblem } from "../../src/schema/definition.ts";
import { configSchema } from "../../src/schema/config.ts";
import { stateSchema, STATE_SCHEMA } from "../../src/schema/state.ts";
import { statusSchema } from "../../src/schema/status.ts";
import { statusExitCode } from "../../src/daemon/policy.ts";
import { readJson, writeJsonAtomic } from "../../src/daemon/state/store.ts";
import { blankStatus } from "../../src/daemon/client/status-report.ts";
import { resolve } from "node:path";

describe("durations and sizes", () => {
  test.each([
    ["500ms", 500],
    ["8s", 8000],
    ["2m", 120000],
    ["1h", 3600000],
    ["1.5s", 1500],
    ["250", 250_000],
    ["5", 5000],
    [" 8 ", 8000],
    ["1.5", 1500],
    [0, 0],
    [5, 5000],
    [1.5, 1500],
  ] as const)("%p → %p ms (a bare number is seconds)", (input, ms) => expect(parseDuration(input)).toBe(ms));
  test.each(["", "8 seconds", "-1s", "1d", "s", "1.s", "5x", "-1"])("%p is rejected", (bad) => expect(parseDuration(bad)).toBeNull());
  test("negative or non-finite numbers are rejected", () => {
    expect(parseDuration(-1)).toBeNull();
    expect(parseDuration(Infinity)).toBeNull();
  });
  test.each([
    [0, "0 ms"],
    [250, "250 ms"],
    [1000, "1 s"],
    [1500, "1.5 s"],
    [3000, "3 s"],
    [10_000, "10 s"],
    [60_000, "1 m"],
    [150_000, "2 m 30 s"],
    [3_900_000, "1 h 5 m"],
    [50 * 3_600_000, "2 d 2 h"],
  ] as const)("formatDuration(%p) is %p", (ms, text) => expect(formatDuration(ms)).toBe(text));
  test("sizes", () => {
    expect(parseSize("10MB")).toBe(10 * 1024 * 1024);
    expect(parseSize("512K")).toBe(512 * 1024);
    expect(parseSize(100)).toBe(100);
    expect(parseSize("ten")).toBeNull();
  });
});

describe("signals", () => {
  test.each([
    ["TERM", "SIGTERM"],
    ["sigterm", "SIGTERM"],
    ["SIGHUP", "SIGHUP"],
    [10, "SIGUSR1"],
    ["15", "SIGTERM"],
  ] as const)("%p → %p", (input, name) => expect(normalizeSignal(input)).toBe(name));
  test("unknown signals are null", () => {
    expect(normalizeSignal("NOPE")).toBeNull();
    expect(normalizeSignal(64)).toBeNull();
  });
  test("numbers follow Linux", () => {
    expect(signalNumber("SIGTERM")).toBe(15);
    expect(signalNumber("SIGKILL")).toBe(9);
    expect(signalNumber("SIGWINCH")).toBe(28);
  });
});

describe("definitions", () => {
  test.each(["none", "tcp:127.0.0.1:80", "tcp:[::1]:8080", "unix:/run/x.sock", "log:^ready$", "exec:curl -f localhost", "delay:2s"])("readiness %p is valid", (spec) =>
    expect(readinessProblem(spec)).toBeNull(),
  );
  test.each(["tcp:nohost", "tcp:h:99999", "http:x", "log:(", "delay:soon", "exec: "])("readiness %p is rejected", (spec) => expect(readinessProblem(spec)).not.toBeNull());

  test("defaults are applied and relative paths resolve against the base directory", () => {
    const parsed = definitionInputSchema().parse({ command: ["x"], cwd: "sub", watch: ["a.conf"], stopTimeout: "3s", backoff: { initial: "50ms", max: 40 } });
    const def = completeDefinition(parsed, "/base", (b, p) => resolve(b, p));
    expect(def).toMatchObject({
      cwd: "/base/sub",
      watch: ["/base/a.conf"],
      stopTimeout: 3000,
      restart: "on-failure",
      backoff: { initial: 50, max: 40_000, resetAfter: 60000 },
      startLimit: { burst: 5, interval: 60000 },
      stopSignal: "SIGTERM",
      ready: "none",
      autostart: true,
    });
  });

  test("input: a bare number is seconds, in a number or a string, and `delay:N` says its unit", () => {
    const parsed = definitionInputSchema().parse({ command: ["x"], stopTimeout: 5, readyTimeout: "2", startLimit: { interval: 1.5 }, ready: "delay:2" });
    expect(parsed).toMatchObject({ stopTimeout: 5000, readyTimeout: 2000, startLimit: { interval: 1500 }, ready: "delay:2s" });
    expect(configSchema().parse({ grace: 8, daemons: {} }).grace).toBe(8000);
  });

  test("stored milliseconds stay milliseconds when re-read as input (old stored `delay:N` too)", () => {
    const stored = completeDefinition(definitionInputSchema().parse({ command: ["x"], stopTimeout: "1500ms", backoff: { max: "2m" } }), "/", (b, p) => resolve(b, p));
    const again = completeDefinition(definitionInputSchema().parse(millisecondsAsInput(Object.fromEntries(Object.entries(stored).filter(([, v]) => v !== null)))), "/", (b, p) => resolve(b, p));
    expect(again).toEqual(stored);
    expect(definitionInputSchema().parse(millisecondsAsInput({ command: ["x"], ready: "delay:500" })).ready).toBe("delay:500ms");
  });

  test("unknown keys are errors, not silently ignored", () => {
    expect(definitionInputSchema().safeParse({ command: ["x"], restartPolicy: "always" }).success).toBe(false);
  });

  test("config: socketMode is octal text; daemon names are validated", () => {
    expect(configSchema().parse({ socketMode: "0660", daemons: {} }).socketMode).toBe(0o660);
    expect(configSchema().safeParse({ socketMode: 660, daemons: {} }).success).toBe(false);
    expect(configSchema().safeParse({ daemons: { "../x": { command: ["x"] } } }).success).toBe(false);
  });
});

describe("files through schemas", () => {
  const dir = mkdtempSync("/tmp/dct-unit-");
  const path = join(dir, "x.state.json");

  test("write then read round-trips", () => {
    const value = { schema: STATE_SCHEMA, name: "x", intent: "running", lastState: null, definition: null, identity: null, restarts: 0, lastExit: null, updatedAt: new Date().toISOString() } as const;
    writeJsonAtomic(path, stateSchema(), value);
    expect(readJson(path, stateSchema())).toEqual({ kind: "ok", value });
  });

  test("an invalid value is refused on write", () => {
    expect(() => writeJsonAtomic(path, stateSchema(), { schema: STATE_SCHEMA } as never)).toThrow();
  });

  test.each([
    ["missing", null, "absent"],
    ["truncated", '{"schema":"daemonctl/state@1","na', "corrupt"],
    ["wrong shape", '{"schema":"daemonctl/state@1"}', "corrupt"],
    ["not JSON", "\u0000\u0001", "corrupt"],
  ])("%s file reads as %s (never a throw)", (_l, content, kind) => {
    const p = join(dir, `${kind}-${Math.random()}.json`);
    if (content !== null) writeFileSync(p, content);
    expect(readJson(p, stateSchema()).kind as string).toBe(kind);
  });

  test("blank status matches the status schema", () => {
    expect(statusSchema().safeParse(blankStatus("x")).success).toBe(true);
  });

  test("LSB exit codes", () => {
    expect(statusExitCode({ state: "running", ready: true })).toBe(0);
    expect(statusExitCode({ state: "running", ready: false })).toBe(4);
    for (const s of ["dead", "failed", "backoff"] as const) expect(statusExitCode({ state: s, ready: null })).toBe(1);
    expect(statusExitCode({ state: "stopped", ready: null })).toBe(3);
    for (const s of ["hung", "unknown", "starting", "stopping"] as const) expect(statusExitCode({ state: s, ready: null })).toBe(4);
  });

  test("cleanup", () => rmSync(dir, { recursive: true, force: true }));
});
