/** The config file `daemonctl.json` (SPEC §5). `daemonctl schema config` prints it as JSON Schema. */
import * as z from "zod/mini";
import { daemonName, duration } from "./common.ts";
import { definitionInput } from "./definition.ts";
import { configLocationShape } from "./config-locations.ts";

export const SOCKET_MODE_RE = /^0?[0-7]{3}$/;

export const config = z.strictObject({
  ...configLocationShape,
  socketMode: z.optional(
    z.pipe(
      z.string({ error: 'expected octal permission digits in a string, for example "0660"' }).check(z.regex(SOCKET_MODE_RE, 'expected octal permission digits in a string, for example "0660"')),
      z.transform((s) => parseInt(s, 8)),
    ),
  ),
  socketGroup: z.optional(z.union([z.string().check(z.minLength(1)), z.int().check(z.minimum(0))])),
  grace: z.optional(duration),
  daemons: z.record(daemonName, definitionInput),
});
export type Config = z.output<typeof config>;
