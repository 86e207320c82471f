/**
 * The directory keys of `daemonctl.json`. Commands on the fast `status` path read only these,
 * through this small schema, instead of paying for the full definition schema.
 */
import * as z from "zod/mini";

export const configLocationShape = {
  $schema: z.optional(z.string()),
  runtimeDir: z.optional(z.string().check(z.minLength(1))),
  stateDir: z.optional(z.string().check(z.minLength(1))),
};
export const configLocations = z.looseObject(configLocationShape);
