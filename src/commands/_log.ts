/** Human diagnostics on stderr through consola; stdout stays for results. */
import { createConsola, type ConsolaInstance } from "consola";
import { UsageError } from "../errors.ts";
import type { Logger } from "../daemon/host.ts";
import { str, bool, type ParsedArgv } from "./_argv.ts";
import { wantsColor } from "./_shared.ts";

const LEVELS: Record<string, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4 };

export function createLogger(p: ParsedArgv): Logger & { consola: ConsolaInstance } {
  let level = 3;
  const named = str(p, "log-level");
  if (named !== undefined) {
    if (!(named in LEVELS)) throw new UsageError(`--log-level must be one of ${Object.keys(LEVELS).join(", ")} (got "${named}")`);
    level = LEVELS[named]!;
  } else if (bool(p, "quiet")) level = 0;
  else if (bool(p, "verbose")) level = 4;
  // Container logs and pipes get plain `[warn] message` lines; terminals get consola's icons.
  // (`fancy` is accepted by createConsola but missing from the typings this resolves to.)
  const options = {
    level,
    fancy: Boolean(process.stderr.isTTY),
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { colors: wantsColor(p), date: false, compact: true },
  };
  const c = createConsola(options as Parameters<typeof createConsola>[0]);
  return {
    consola: c,
    debug: (m) => c.debug(m),
    info: (m) => c.info(m),
    warn: (m) => c.warn(m),
    error: (m) => c.error(m),
  };
}
