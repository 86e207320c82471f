/**
 * One command = one file exporting `defineCommand({ meta, flags, run })`. `run` gets the raw
 * argv after the command name and returns the exit code. cli.ts turns these into citty commands
 * for help and dispatch; nothing here imports citty, so a command pays only for what it uses.
 */
import type { FlagSpecs } from "./_argv.ts";

export interface Command {
  /** `commandArgs`: what the USAGE line shows after the flags (`[-- CMD [ARGS…]]`). */
  meta: { name: string; description: string; hidden?: boolean; usage?: string; commandArgs?: string; aliases?: string[] };
  flags: FlagSpecs;
  run(argv: string[]): Promise<number>;
}

export function defineCommand(def: Command): Command {
  return def;
}
