/** Every published schema by name, for `daemonctl schema NAME` (JSON Schema from the zod source). */
import * as z from "zod/mini";

export const SCHEMAS = {
  config: async () => (await import("./config.ts")).configSchema(),
  status: async () => (await import("./status.ts")).statusSchema(),
  "status-list": async () => (await import("./status.ts")).statusListSchema(),
  metadata: async () => (await import("./metadata.ts")).metadataSchema(),
  "planned-stop": async () => (await import("./planned-stop.ts")).plannedStopSchema(),
  "lock-holder": async () => (await import("./lock-holder.ts")).lockHolderSchema(),
  state: async () => (await import("./state.ts")).stateSchema(),
  event: async () => (await import("./event.ts")).eventSchema(),
  reconcile: async () => (await import("./reconcile.ts")).reconcileResultSchema(),
} as const;
export type SchemaName = keyof typeof SCHEMAS;

const TITLES: Record<SchemaName, string> = {
  config: "daemonctl.json",
  status: "daemonctl/status@1",
  "status-list": "daemonctl/status-list@1",
  metadata: "daemonctl/metadata@1",
  "planned-stop": "daemonctl/planned-stop@1",
  "lock-holder": "daemonctl/lock-holder@1",
  state: "daemonctl/state@1",
  event: "daemonctl/event@1",
  reconcile: "daemonctl reconcile --json",
};

/** JSON Schema of what may be *written* (input side: durations as "8s" or milliseconds). */
export async function jsonSchemaOf(name: SchemaName): Promise<Record<string, unknown>> {
  const schema = await SCHEMAS[name]();
  const out = z.toJSONSchema(schema as z.ZodMiniType, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...out, title: TITLES[name] };
}
