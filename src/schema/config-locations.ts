/**
 * The directory keys of `daemonctl.json`. Commands on the fast `status` path read only these,
 * through this small schema, instead of paying for the full definition schema.
 */
import * as z from "zod/mini";
import { lazySchema } from "./lazy.ts";

export const configLocationShape = () => ({
  $schema: z.optional(z.string()),
  runtimeDir: z.optional(z.string().check(z.regex(/\S/, "a directory path"))),
  stateDir: z.optional(z.string().check(z.regex(/\S/, "a directory path"))),
});
export const configLocationsSchema = lazySchema(() => z.looseObject(configLocationShape()));
export type ConfigLocations = z.infer<ReturnType<typeof configLocationsSchema>>;
