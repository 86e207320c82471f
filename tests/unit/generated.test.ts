/** The hot-path validators are generated from the zod schemas: they must never drift apart. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { GENERATED, generateValidators } from "../../scripts/gen-validators.ts";
import { INVALID, parseConfigLocations, parseResponse, parseStatus } from "../../src/schema/generated/validators.ts";
import { statusSchema } from "../../src/schema/status.ts";
import { responseSchema } from "../../src/schema/protocol.ts";
import { blankStatus } from "../../src/daemon/client/status-report.ts";

test("src/schema/generated/validators.ts is up to date (run `npm run generate`)", () => {
  expect(readFileSync(GENERATED, "utf8")).toBe(generateValidators());
});

const samples: unknown[] = [
  blankStatus("web"),
  { ...blankStatus("web"), state: "running", pid: 12, child: { pid: 13, startedAt: "t", restarts: 2, lastExit: { code: 1, signal: null, at: "t" } } },
  { ...blankStatus("web"), state: "sleeping" },
  { ...blankStatus("web"), pid: 1.5 },
  { ...blankStatus("web"), child: { pid: null } },
  { ...blankStatus("web"), schema: "daemonctl/status@2" },
  null,
  [],
  "status",
];

test.each(samples.map((s, i) => [i, s]))("status sample %d: generated and zod agree", (_i, sample) => {
  const zod = statusSchema().safeParse(sample);
  const gen = parseStatus(sample);
  expect(gen === INVALID).toBe(!zod.success);
  if (zod.success) expect(gen).toEqual(zod.data);
});

test("responses and config locations agree with zod", () => {
  for (const r of [{ id: 1, ok: true, result: { a: 1 } }, { id: "x", ok: false, error: { code: "c", message: "m" } }, { id: 1, ok: true }, { ok: false, error: {} }]) {
    expect(parseResponse(r) === INVALID).toBe(!responseSchema().safeParse(r).success);
  }
  expect(parseConfigLocations({ runtimeDir: "/r", daemons: {} })).toEqual({ runtimeDir: "/r", daemons: {} });
  expect(parseConfigLocations({ runtimeDir: " " })).toBe(INVALID);
});
