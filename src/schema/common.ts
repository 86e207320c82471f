/**
 * Building blocks shared by daemonctl's JSON shapes.
 *
 * All schemas use `zod/mini` (the same zod, with a functional API the bundler can trim) and are
 * built lazily (see lazy.ts): full zod costs ~5 ms of start-up, eager mini schemas ~4 ms more on
 * the `status` path (bench/).
 */
import * as z from "zod/mini";
import { DAEMON_NAME_RE, DURATION_RE, SIZE_RE } from "./units.ts";
import { CALLBACKS } from "./checks.ts";
import { lazySchema } from "./lazy.ts";

export { DAEMON_NAME_RE, parseDuration, formatDuration, DURATION_HINT, parseSize, normalizeSignal, signalNumber, SIGNAL_NAMES, type SignalName } from "./units.ts";
export const daemonNameSchema = lazySchema(() =>
  z.string().check(z.regex(DAEMON_NAME_RE, "a daemon name: letters, digits, '.', '_' or '-', at most 64, not starting with a symbol")),
);

/**
 * A duration a person wrote in a JSON file: a number of seconds (`8`, `1.5`) or a string like
 * "500ms", "8s", "2m" (a bare "8" is seconds too); parses to integer milliseconds. Stored
 * definitions hold those milliseconds as plain integers and use `z.int()`, never this.
 */
export const durationSchema = lazySchema(() =>
  z.pipe(
    z.union([
      z.number().check(z.minimum(0)),
      z.string().check(z.regex(DURATION_RE, 'a duration: a number of seconds or a string like "500ms", "8s", "2m"')),
    ]),
    z.transform(CALLBACKS.durationToMs),
  ),
);

/** A byte size: integer bytes or a string like "10MB". */
export const byteSizeSchema = lazySchema(() =>
  z.pipe(
    z.union([z.int().check(z.minimum(0)), z.string().check(z.regex(SIZE_RE, 'a size like "10MB", "512K" or integer bytes'))]),
    z.transform(CALLBACKS.sizeToBytes),
  ),
);

export const signalNameSchema = lazySchema(() =>
  z.pipe(
    z.union([z.string(), z.int()]).check(z.refine(CALLBACKS.isSignal, "a signal name like SIGTERM, TERM or a number 1-31")),
    z.transform(CALLBACKS.toSignalName),
  ),
);

export const exitInfoSchema = lazySchema(() =>
  z.object({
    code: z.nullable(z.int()),
    signal: z.nullable(z.string()),
    at: z.string(),
  }),
);
export type ExitInfo = z.infer<ReturnType<typeof exitInfoSchema>>;
