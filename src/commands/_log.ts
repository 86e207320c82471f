/**
 * Human diagnostics on stderr through consola; stdout stays for results.
 *
 * consola's core with a small reporter of our own: `[warn] message` lines, coloured on a
 * terminal. The full consola build (fancy reporter) pulls in node:util and node:tty, ~5 MiB of
 * resident memory that a long-lived supervisor would carry for nothing (bench/supervise.ts).
 */
import { createConsola, type ConsolaInstance, type LogObject } from "consola/core";
import type { Logger } from "../logger.ts";
import { badValue, str, bool, type ParsedArgv } from "./_argv.ts";
import { wantsColor } from "./_shared.ts";

const LEVELS: Record<string, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4 };
const COLOURS: Record<string, number> = { fatal: 31, error: 31, warn: 33, info: 36, success: 32, debug: 90, trace: 90 };

function plainReporter(colour: boolean) {
  return {
    log(o: LogObject) {
      const tag = o.type === "log" ? "" : `[${o.type}] `;
      const text = o.args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(" ");
      const c = COLOURS[o.type];
      process.stderr.write(colour && c ? `\x1b[${c}m${tag}\x1b[0m${text}\n` : `${tag}${text}\n`);
    },
  };
}

/** tini's verbosity (0 errors only, 1 warnings, 2 info, 3 and up debug) as a consola level. */
const TINI_LEVELS = [LEVELS.error!, LEVELS.warn!, LEVELS.info!, LEVELS.debug!];

/**
 * `verbosity`, when given, is tini's number (`supervise -- CMD`: TINI_VERBOSITY plus one per
 * -v); otherwise -v means debug. --log-level and --quiet win over both.
 */
export function createLogger(p: ParsedArgv, verbosity?: number): Logger & { consola: ConsolaInstance } {
  let level = 3;
  const named = str(p, "log-level");
  if (named !== undefined) {
    if (!(named in LEVELS)) throw badValue("log-level", named, "a log level", Object.keys(LEVELS).join(", "), Object.keys(LEVELS));
    level = LEVELS[named]!;
  } else if (bool(p, "quiet")) level = 0;
  else if (verbosity !== undefined) level = TINI_LEVELS[Math.max(0, Math.min(verbosity, TINI_LEVELS.length - 1))]!;
  else if (bool(p, "verbose")) level = 4;
  const c = createConsola({ level, reporters: [plainReporter(wantsColor(p))] });
  return {
    consola: c,
    debug: (m) => c.debug(m),
    info: (m) => c.info(m),
    warn: (m) => c.warn(m),
    error: (m) => c.error(m),
  };
}
