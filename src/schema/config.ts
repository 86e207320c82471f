/**
 * The config file `daemonctl.json` (docs/configuration.md). `daemonctl schema config` prints it
 * as JSON Schema.
 */
import * as z from "zod/mini";
import { daemonNameSchema, durationSchema } from "./common.ts";
import { definitionInputSchema } from "./definition.ts";
import { configLocationShape } from "./config-locations.ts";
import { lazySchema } from "./lazy.ts";

export const SOCKET_MODE_RE = /^0?[0-7]{3}$/;
const SOCKET_MODE_HINT = 'expected octal permission digits in a string, for example "0660"';

export const configSchema = lazySchema(() =>
  z.strictObject({
    ...configLocationShape(),
    socketMode: z.optional(
      z.pipe(
        z.string({ error: SOCKET_MODE_HINT }).check(z.regex(SOCKET_MODE_RE, SOCKET_MODE_HINT)),
        z.transform((s) => parseInt(s, 8)),
      ),
    ),
    socketGroup: z.optional(z.union([z.string().check(z.minLength(1)), z.int().check(z.minimum(0))])),
    grace: z.optional(durationSchema()),
    daemons: z.record(daemonNameSchema(), definitionInputSchema()),
  }),
);
export type Config = z.output<ReturnType<typeof configSchema>>;
