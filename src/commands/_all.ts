/**
 * `start --all` and `restart --all`: every daemon known here (a socket or a state file) and every
 * daemon of the config, each with its own definition (config entry, else the stored one).
 * Unlike `reconcile`, recorded intent is not consulted: `--all` means all.
 */
import { resolveDefinition, type ResolvedDefinition } from "../daemon/definition/source.ts";
import { knownAndConfigured } from "../daemon/state/known.ts";
import type { DefinitionInput } from "../schema/definition.ts";
import { CliError, UsageError } from "../errors.ts";
import type { ParsedArgv } from "./_argv.ts";
import type { FullContext } from "./_context.ts";
import type { Logger } from "../logger.ts";

/** Names from the positionals, or every daemon with `--all` (never both). */
export function namesOrAll(p: ParsedArgv, all: boolean, command: string): "all" | null {
  if (all && p.positionals.length) throw new UsageError(`give daemon names or --all, not both`);
  if (all && p.rest) throw new UsageError(`\`daemonctl ${command} --all\` uses each daemon's own definition; a command (-- CMD) needs one name`);
  return all ? "all" : null;
}

export function everyDaemon(ctx: FullContext): string[] {
  return knownAndConfigured(ctx.dirs, Object.keys(ctx.config?.config.daemons ?? {}));
}

/**
 * Each daemon's definition; a daemon without one (only a recorded stop, say) is reported and
 * skipped, so one bad entry does not hold the others back.
 */
export function resolveEvery(names: string[], ctx: FullContext, overrides: Partial<DefinitionInput>, log: Logger): { resolved: ResolvedDefinition[]; failed: number } {
  const resolved: ResolvedDefinition[] = [];
  let failed = 0;
  for (const name of names) {
    try {
      resolved.push(resolveDefinition({ name, overrides, config: ctx.config, dirs: ctx.dirs }));
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      failed++;
      log.error(`${name}: ${e.message}`);
    }
  }
  return { resolved, failed };
}
