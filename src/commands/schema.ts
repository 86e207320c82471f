/** `daemonctl schema [NAME]`: JSON Schema generated from the zod schemas (the single source). */
import { writeStdout } from "../platform/files.ts";
import { SCHEMAS, jsonSchemaOf, type SchemaName } from "../schema/index.ts";
import { UsageError } from "../errors.ts";
import { parseArgv } from "./_argv.ts";
import { defineCommand } from "./_define.ts";
import { withGlobals } from "./_shared.ts";

const flags = withGlobals({
  name: { type: "positional", description: `One of: ${Object.keys(SCHEMAS).join(", ")} (default config)`, required: false },
});

export default defineCommand({
  meta: { name: "schema", description: "Print a JSON Schema (config, status, metadata, planned-stop, state, event…)" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "schema");
    const name = (p.positionals[0] ?? "config") as SchemaName;
    if (p.positionals.length > 1 || !(name in SCHEMAS)) throw new UsageError(`unknown schema "${p.positionals.join(" ")}"; choose one of ${Object.keys(SCHEMAS).join(", ")}`);
    await writeStdout(`${JSON.stringify(await jsonSchemaOf(name), null, 2)}\n`);
    return 0;
  },
});
