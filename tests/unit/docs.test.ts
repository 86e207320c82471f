/** The configuration reference documents every key the config schema accepts, so they cannot drift. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { jsonSchemaOf } from "../../src/schema/index.ts";

interface Node {
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  anyOf?: Node[];
  oneOf?: Node[];
  items?: Node;
}

/** Dotted key paths of every object property, with record values (daemons.NAME) collapsed. */
function keys(node: Node, prefix: string, out: Set<string>): void {
  for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) keys(alt, prefix, out);
  for (const [k, v] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    out.add(path);
    keys(v, path, out);
  }
  if (node.additionalProperties && typeof node.additionalProperties === "object") keys(node.additionalProperties, prefix, out);
}

test("docs/configuration.md names every config key", async () => {
  const schema = (await jsonSchemaOf("config")) as Node;
  const all = new Set<string>();
  keys(schema, "", all);
  const doc = readFileSync(join(import.meta.dir, "../../docs/configuration.md"), "utf8");
  // Definition keys live under "daemons"; the reference lists them without that prefix.
  const documented = [...all].map((k) => k.replace(/^daemons\./, ""));
  expect(all.size).toBeGreaterThan(25);
  const missing = documented.filter((k) => !doc.includes(`\`${k}\``));
  expect(missing).toEqual([]);
});
