/**
 * The definition and host-spec validators are generated from the zod schemas with their callbacks
 * called by name (src/schema/checks.ts). On the success path they stand in for zod, so whatever
 * they accept zod must accept with the very same value; this corpus covers every callback both
 * ways.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { GENERATED_DEFINITION, generateDefinitionValidators } from "../../scripts/gen-validators.ts";
import { INVALID, parseDefinitionInput, parseHostSpec } from "../../src/schema/generated/definition-validators.ts";
import { completeDefinition, definitionInputSchema, millisecondsAsInput } from "../../src/schema/definition.ts";
import { hostSpecSchema } from "../../src/schema/host-spec.ts";
import { CALLBACKS } from "../../src/schema/checks.ts";

test("src/schema/generated/definition-validators.ts is up to date (run `npm run generate`)", () => {
  expect(readFileSync(GENERATED_DEFINITION, "utf8")).toBe(generateDefinitionValidators());
});

test("every callback of src/schema/checks.ts is called by name from the generated code", () => {
  const text = readFileSync(GENERATED_DEFINITION, "utf8");
  for (const name of Object.keys(CALLBACKS)) expect(text).toContain(`CALLBACKS.${name}`);
});

/** A stored definition back in input form, as source.ts overlays flags on it. */
function storedAsInput(input: object): unknown {
  const def = completeDefinition(definitionInputSchema().parse(input), "/base", (b, p) => `${b}/${p}`);
  return millisecondsAsInput(Object.fromEntries(Object.entries(def).filter(([, v]) => v !== null)));
}

const cmd = { command: ["sleep", "1"] };
const full = {
  command: ["python3", "-m", "http.server"],
  cwd: "sub",
  env: { A: "1", B: "" },
  watch: ["a.txt"],
  envFile: ["x.env", "-opt.env"],
  ready: "tcp:127.0.0.1:8000",
  readyTimeout: "1.5s",
  restart: "always",
  backoff: { initial: "100ms", max: 30, resetAfter: "1m" },
  startLimit: { burst: 3, interval: "1h" },
  onExit: "shutdown",
  notify: ["echo", "hi"],
  stopSignal: "int",
  stopTimeout: 2.5,
  dependsOn: ["db", "cache.1"],
  autostart: false,
  user: "nobody",
  group: 0,
  log: { maxSize: "10MB", maxFiles: 2 },
  type: "oneshot",
  once: true,
  watchdog: "100ms",
  health: { check: "http://127.0.0.1:8000/health", interval: "5s", timeout: 1, retries: 2, startPeriod: "0", onFailure: "none" },
  restartWith: true,
};

const valid: unknown[] = [
  cmd,
  full,
  ...["none", "notify", "fd:3", "fd:9999", "tcp:localhost:1", "unix:/run/x.sock", "log:^ready$", "exec:test -e x", "delay:2", "delay:1.5", "delay:500ms"].map((ready) => ({ ...cmd, ready })),
  ...[0, 5, 1.25, "5", "500ms", "2m", "1h"].map((stopTimeout) => ({ ...cmd, stopTimeout })),
  ...["SIGTERM", "TERM", "term", "sigkill", 9, "15", 31].map((stopSignal) => ({ ...cmd, stopSignal })),
  ...[0, 4096, "512K", "1GiB", "10 MB".replace(" ", "")].map((maxSize) => ({ ...cmd, log: { maxSize } })),
  ...["http://h:80/p", "http://h/p", "tcp:db:5432", "unix:/x", "exec:pg_isready"].map((check) => ({ ...cmd, health: { check } })),
  { ...cmd, envFile: "a.env" },
  { ...cmd, envFile: "-a.env" },
  { ...cmd, envFile: [] },
  { ...cmd, watchdog: 0.1 },
  { ...cmd, watchdog: "2s" },
  { ...cmd, once: false },
  { ...cmd, type: "oneshot", once: true },
  { ...cmd, type: "longrun" },
  { ...cmd, user: 1000, group: "staff" },
  { ...cmd, backoff: {}, startLimit: {}, log: {} },
  { ...cmd, env: {} },
  { ...cmd, dependsOn: [] },
  { ...cmd, cwd: undefined, ready: undefined },
  storedAsInput(full),
  storedAsInput({ ...cmd, ready: "delay:2" }),
];

const invalid: unknown[] = [
  null,
  [],
  "sleep",
  {},
  { command: [] },
  { command: "sleep 1" },
  { command: [1] },
  { ...cmd, unknown: 1 },
  { ...cmd, cwd: 1 },
  { ...cmd, env: { A: 1 } },
  { ...cmd, env: [] },
  { ...cmd, watch: "a" },
  ...["", "ready", "tcp:nohost", "tcp:h:0", "tcp:h:99999", "tcp::80", "unix:", "log:", "log:(", "exec:", "exec:  ", "delay:", "delay:soon", " delay:3 ", "fd:", "fd:2", "fd:x", "fd:12345", "http://h:80"].map((ready) => ({ ...cmd, ready })),
  { ...cmd, ready: 5 },
  ...[-1, "-1", " 8s ", "5 s", "abc", "1d", null, true, Number.NaN].map((stopTimeout) => ({ ...cmd, stopTimeout })),
  ...["SIGFOO", "", 0, 32, 1.5, "SIG", null].map((stopSignal) => ({ ...cmd, stopSignal })),
  ...[-1, 1.5, "10XB", "1.5MB", "", null].map((maxSize) => ({ ...cmd, log: { maxSize } })),
  { ...cmd, log: { maxFiles: 0 } },
  { ...cmd, log: { maxFiles: 1.5 } },
  { ...cmd, log: { extra: 1 } },
  { ...cmd, restart: "sometimes" },
  { ...cmd, onExit: "restart" },
  { ...cmd, type: "daemon" },
  { ...cmd, backoff: { initial: "x" } },
  { ...cmd, backoff: { extra: 1 } },
  { ...cmd, startLimit: { burst: 0 } },
  { ...cmd, startLimit: { burst: 1.5 } },
  { ...cmd, notify: [] },
  { ...cmd, dependsOn: ["-bad"] },
  { ...cmd, dependsOn: ["a/b"] },
  { ...cmd, autostart: "yes" },
  { ...cmd, user: "" },
  { ...cmd, user: -1 },
  { ...cmd, group: 1.5 },
  { ...cmd, once: true },
  { ...cmd, once: true, type: "longrun" },
  { ...cmd, once: "yes", type: "oneshot" },
  { ...cmd, watchdog: "50ms" },
  { ...cmd, watchdog: 0.05 },
  { ...cmd, watchdog: 0 },
  { ...cmd, watchdog: "soon" },
  ...["ftp://h", "tcp:h", "tcp:h:0", "tcp:h:70000", "http://", "http://:80/x", "http://h:0/", "unix:", "exec:", "exec:  ", ""].map((check) => ({ ...cmd, health: { check } })),
  { ...cmd, health: {} },
  { ...cmd, health: { check: "tcp:h:1", retries: 0 } },
  { ...cmd, health: { check: "tcp:h:1", onFailure: "kill" } },
  { ...cmd, health: { check: "tcp:h:1", interval: "x" } },
  { ...cmd, health: { check: "tcp:h:1", extra: 1 } },
  { ...cmd, envFile: "" },
  { ...cmd, envFile: "-" },
  { ...cmd, envFile: ["ok.env", "-"] },
  { ...cmd, envFile: 1 },
  { ...cmd, restartWith: "yes" },
];

test.each([...valid.map((v, i) => [`valid ${i}`, v]), ...invalid.map((v, i) => [`invalid ${i}`, v])])("definition input %s: generated and zod agree", (label, input) => {
  const zod = definitionInputSchema().safeParse(input);
  expect(zod.success).toBe(String(label).startsWith("valid"));
  const gen = parseDefinitionInput(input);
  expect(gen === INVALID).toBe(!zod.success);
  if (zod.success) expect(gen).toStrictEqual(zod.data);
});

const complete = completeDefinition(definitionInputSchema().parse(full), "/base", (b, p) => `${b}/${p}`);
const spec = {
  schema: "daemonctl/host-spec@1",
  name: "web",
  definition: completeDefinition(definitionInputSchema().parse(cmd), "/base", (b, p) => `${b}/${p}`),
  identity: "abc",
  runtimeDir: "/r",
  stateDir: "/s",
  probeTimeoutMs: 2000,
  socketMode: null,
  gid: null,
};
const specs: unknown[] = [
  spec,
  { ...spec, definition: complete, socketMode: 0o660, gid: 100 },
  ...["none", "notify", "fd:3", "delay:2s", "delay:2", "log:x", "tcp:h:1", "unix:/x", "exec:true"].map((ready) => ({ ...spec, definition: { ...spec.definition, ready } })),
  ...["tcp:h", "log:(", "fd:1", "delay:soon", "nope", ""].map((ready) => ({ ...spec, definition: { ...spec.definition, ready } })),
  { ...spec, schema: "daemonctl/host-spec@2" },
  { ...spec, socketMode: 1.5 },
  { ...spec, gid: "100" },
  { ...spec, identity: undefined },
  { ...spec, definition: { ...spec.definition, readyTimeout: "5s" } },
  { ...spec, definition: { ...spec.definition, command: [] } },
  { ...spec, definition: { ...spec.definition, log: { maxSize: 1 } } },
  { ...spec, definition: { ...spec.definition, health: { ...complete.health, retries: "3" } } },
  { ...spec, definition: { ...spec.definition, extra: 1 }, extra: 2 },
  null,
  {},
];

test.each(specs.map((s, i) => [i, s]))("host spec %d: generated and zod agree", (_i, input) => {
  const zod = hostSpecSchema().safeParse(input);
  const gen = parseHostSpec(input);
  expect(gen === INVALID).toBe(!zod.success);
  if (zod.success) expect(gen).toStrictEqual(zod.data);
});
