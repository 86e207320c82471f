#!/usr/bin/env bun
/**
 * Generates src/schema/generated/validators.ts: plain-function validators for the messages on
 * the `status` hot path, compiled by zod itself (`compileFn` from zod/v4/core) from the very
 * schemas in src/schema. The schemas stay the single source of truth; the generated functions
 * let `status --json` skip loading and building zod at start-up (bench/startup.ts).
 *
 * zod's compiler returns a function built with `new Function(...constantNames, body)` and called
 * with the constant values. We capture names, body and values by standing in for `Function` while
 * it runs, then print the same function as source. Only schemas whose constants are plain data
 * (Sets of literals, primitives, RegExps) and whose rejections are definite can be generated; the
 * script refuses anything else.
 *
 * The definition schemas (src/schema/generated/definition-validators.ts) also run callbacks:
 * every one is an entry of CALLBACKS in src/schema/checks.ts, and the generated code calls it by
 * that name. zod hoists a callback wrapped in a closure of its own; the script learns which entry
 * a closure wraps by calling it while the callbacks answer with their names (probingCallbacks),
 * and writes the same wrapper around `CALLBACKS.NAME`. A function constant it cannot name is
 * refused. Those validators are for the success path only: on INVALID the caller runs the zod
 * schema, which gives the messages (and the final word).
 *
 *   bun scripts/gen-validators.ts          write the file
 *   bun scripts/gen-validators.ts --check  exit 1 if the file is out of date
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { $ZodAsyncError, compileFn, util } from "zod/v4/core";
import { statusSchema } from "../src/schema/status.ts";
import { eventMessageSchema, responseSchema } from "../src/schema/protocol.ts";
import { configLocationsSchema } from "../src/schema/config-locations.ts";
import { definitionInputSchema } from "../src/schema/definition.ts";
import { hostSpecSchema } from "../src/schema/host-spec.ts";
import { CALLBACKS, CALLBACK_KINDS, CallbackProbe, probingCallbacks } from "../src/schema/checks.ts";

export const GENERATED = join(import.meta.dir, "../src/schema/generated/validators.ts");
export const GENERATED_DEFINITION = join(import.meta.dir, "../src/schema/generated/definition-validators.ts");

interface Target {
  name: string;
  type: string;
  typeFrom: string;
  schema: () => unknown;
  /** May call the named callbacks of src/schema/checks.ts (see the header). */
  callbacks?: boolean;
}

const TARGETS: Target[] = [
  { name: "parseStatus", type: "Status", typeFrom: "../status.ts", schema: statusSchema },
  { name: "parseResponse", type: "Response", typeFrom: "../protocol.ts", schema: responseSchema },
  { name: "parseEventMessage", type: "EventMessage", typeFrom: "../protocol.ts", schema: eventMessageSchema },
  { name: "parseConfigLocations", type: "ConfigLocations", typeFrom: "../config-locations.ts", schema: configLocationsSchema },
];

const DEFINITION_TARGETS: Target[] = [
  { name: "parseDefinitionInput", type: "ParsedDefinitionInput", typeFrom: "../definition.ts", schema: definitionInputSchema, callbacks: true },
  { name: "parseHostSpec", type: "HostSpec", typeFrom: "../host-spec.ts", schema: hostSpecSchema, callbacks: true },
];

interface Captured {
  names: string[];
  body: string;
  values: unknown[];
}

function capture(schema: unknown, callbacks: boolean): Captured {
  const RealFunction = globalThis.Function;
  let captured: Captured | null = null;
  const Stand = function (this: unknown, ...args: string[]) {
    const names = args.slice(0, -1);
    const body = args[args.length - 1]!;
    const factory = RealFunction(...args) as (...v: unknown[]) => unknown;
    return (...values: unknown[]) => {
      captured = { names, body, values };
      return factory(...values);
    };
  } as unknown as FunctionConstructor;
  globalThis.Function = Stand;
  let fn: { definite?: boolean };
  try {
    fn = compileFn(schema as Parameters<typeof compileFn>[0]);
  } finally {
    globalThis.Function = RealFunction;
  }
  if (!captured) throw new Error("zod's compiler did not build a function");
  if (fn.definite === false && !callbacks) throw new Error("schema has callbacks: its compiled rejections are not definite");
  return captured;
}

function literal(value: unknown, where: string): string {
  if (value instanceof Set) return `new Set(${JSON.stringify([...value])})`;
  if (value instanceof RegExp) return value.toString();
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return JSON.stringify(value);
  throw new Error(`${where}: constant ${String(value)} (${typeof value}) cannot be written as source`);
}

/**
 * A function constant as source: `CALLBACKS.NAME` itself (a refine predicate, hoisted as is), or
 * the wrapper zod's compiler puts around a check or a transform, written out around the same
 * callback. Anything else is refused.
 */
function callbackSource(value: Function, where: string): string {
  const zodHelper = ZOD_HELPERS.get(value);
  if (zodHelper) return zodHelper;
  let probe: unknown = null;
  try {
    probingCallbacks(() => value(undefined));
  } catch (e) {
    probe = e;
  }
  if (probe instanceof $ZodAsyncError) return "throwAsync";
  if (!(probe instanceof CallbackProbe)) throw new Error(`${where}: a function constant that is not a CALLBACKS entry of src/schema/checks.ts`);
  const name = probe.name as keyof typeof CALLBACKS;
  const kind = CALLBACK_KINDS[name];
  const hoistedAsIs = value === CALLBACKS[name];
  if (hoistedAsIs !== (kind === "refine")) throw new Error(`${where}: CALLBACKS.${name} is declared a ${kind} but is not attached as one`);
  if (kind === "refine") return `CALLBACKS.${name}`;
  return `${kind === "check" ? "checkWith" : "transformWith"}(CALLBACKS.${name})`;
}

/** zod's own helpers that its compiled code calls, by the name the generated file reaches them. */
const ZOD_HELPERS = new Map<unknown, string>([
  [util.isPlainObject, "util.isPlainObject"],
  [util.codePointLength, "util.codePointLength"],
  [Object.prototype.propertyIsEnumerable, "Object.prototype.propertyIsEnumerable"],
]);

function constantSource(value: unknown, where: string, callbacks: boolean): string {
  return callbacks && typeof value === "function" ? callbackSource(value, where) : literal(value, where);
}

const HEADER = [
  "// @ts-nocheck -- generated code; its types are declared on the exports below.",
  "// Generated by scripts/gen-validators.ts from the zod schemas in src/schema: do not edit.",
];

/** How zod's compiler runs a superRefine or a transform (zod/v4/core compile.js), around a named callback. */
const CALLBACK_WRAPPERS = [
  "const checkWith = (f) => (value) => {",
  "  const payload = { value, issues: [] };",
  "  if (f(value, payload) instanceof Promise) throwAsync();",
  "  return payload.issues.length === 0 ? payload.value : INVALID;",
  "};",
  "const transformWith = (f) => (value) => {",
  "  const payload = { value, issues: [] };",
  "  const result = f(value, payload);",
  "  if (result instanceof Promise) return INVALID;",
  "  return payload.issues.length === 0 ? result : INVALID;",
  "};",
  'const throwAsync = () => { throw new Error("a schema callback returned a promise"); };',
];

export function generateValidators(): string {
  return generate(TARGETS, [
    ...HEADER,
    "// Each function is zod's own compiled parser for that schema: it returns the parsed value, or",
    "// INVALID exactly when the zod schema would reject the input. tests/unit/generated.test.ts",
    "// fails when this file and the schemas drift apart.",
    "",
  ]);
}

export function generateDefinitionValidators(): string {
  return generate(DEFINITION_TARGETS, [
    ...HEADER,
    "// Each function is zod's own compiled parser for that schema, its callbacks called by name from",
    "// src/schema/checks.ts: it returns the value the zod schema would, or INVALID. INVALID is not a",
    "// verdict: the caller then parses with the zod schema, which also words the problem.",
    "// tests/unit/generated.test.ts fails when this file and the schemas drift apart.",
    "",
    'import { util } from "zod/v4/core";',
    'import { CALLBACKS } from "../checks.ts";',
  ], CALLBACK_WRAPPERS);
}

function generate(targets: Target[], header: string[], helpers: string[] = []): string {
  const out = [...header];
  const types = new Map<string, string[]>();
  for (const t of targets) types.set(t.typeFrom, [...(types.get(t.typeFrom) ?? []), t.type]);
  for (const [from, names] of types) out.push(`import type { ${[...new Set(names)].join(", ")} } from "${from}";`);
  out.push("", 'export const INVALID: unique symbol = Symbol("invalid");', "export type Invalid = typeof INVALID;", "");
  if (helpers.length) out.push(...helpers, "");
  for (const t of targets) {
    const callbacks = t.callbacks === true;
    const { names, body, values } = capture(t.schema(), callbacks);
    if (names[0] !== "INVALID") throw new Error(`${t.name}: unexpected constant layout`);
    const args = values.slice(1).map((v, i) => constantSource(v, `${t.name} ${names[i + 1]}`, callbacks));
    const body2 = body.replace(/^return \(input\) => \{\n/, "").replace(/\n\}$/, "");
    out.push(
      `export const ${t.name} = ((${names.join(", ")}) => (input) => {`,
      ...body2.split("\n").map((l) => `  ${l}`),
      `})(${["INVALID", ...args].join(", ")}) as (input: unknown) => ${t.type} | Invalid;`,
      "",
    );
  }
  return out.join("\n");
}

if (import.meta.main) {
  for (const [file, text] of [[GENERATED, generateValidators()], [GENERATED_DEFINITION, generateDefinitionValidators()]] as const) {
    if (process.argv.includes("--check")) {
      let current = "";
      try {
        current = readFileSync(file, "utf8");
      } catch {
        // missing counts as out of date
      }
      if (current !== text) {
        console.error(`${file} is out of date: run \`bun scripts/gen-validators.ts\``);
        process.exit(1);
      }
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
}
