/** The command tree: citty renders help from each command's flag table; commands load lazily. */
import { writeStdout } from "./platform/files.ts";
import { renderUsage, type ArgsDef, type CommandDef } from "citty";
import { UsageError, didYouMean } from "./errors.ts";
import { COMMIT, VERSION } from "./version.ts";
import type { Command } from "./commands/_define.ts";
import { ALIASES, COMMAND_NAMES, COMMANDS } from "./commands/index.ts";

function toCitty(cmd: Command): CommandDef {
  return { meta: { name: cmd.meta.name, description: cmd.meta.description }, args: cmd.flags as ArgsDef };
}

async function rootCommand(): Promise<CommandDef> {
  const subCommands: Record<string, () => Promise<CommandDef>> = {};
  for (const [name, load] of Object.entries(COMMANDS)) subCommands[name] = async () => toCitty((await load()).default);
  // Handled by runCli itself, but listed so `--help` shows every word it accepts.
  subCommands.help = async () => ({ meta: { name: "help", description: "Show this help, or a command's: daemonctl help COMMAND" } });
  subCommands.version = async () => ({ meta: { name: "version", description: "Print the version and commit (also --version, -V)" } });
  return {
    meta: { name: "daemonctl", version: VERSION, description: "Singleton daemons, container init and run intent in one executable" },
    subCommands,
  };
}

export async function usage(name?: string): Promise<string> {
  const root = await rootCommand();
  let text: string;
  if (!name) text = await renderUsage(root);
  else {
    const cmd = (await COMMANDS[name]!()).default;
    text = await renderUsage(toCitty(cmd), root);
    // citty builds the USAGE line from the flag table, which cannot say "and a command after --".
    if (cmd.meta.commandArgs) text = text.replace(/^(.*USAGE.*?)((?:\x1b\[[0-9;]*m)*)$/m, (_, line: string, reset: string) => `${line.trimEnd()} ${cmd.meta.commandArgs}${reset}`);
    if (cmd.meta.usage) text += `\n\n${cmd.meta.usage}`;
  }
  // citty colours unless NO_COLOR=1; piped help (docs, grep) should be plain text.
  return process.stdout.isTTY && !process.env.NO_COLOR ? text : text.replace(/\x1b\[[0-9;]*m/g, "");
}

export async function runCli(argv: string[]): Promise<number> {
  const [given, ...rest] = argv;
  const first = given !== undefined ? (ALIASES[given] ?? given) : given;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const target = first === "help" && rest[0] !== undefined ? (ALIASES[rest[0]] ?? rest[0]) : undefined;
    if (target !== undefined && !(target in COMMANDS)) throw new UsageError(`unknown command "${target}"${didYouMean(target, COMMAND_NAMES)}`);
    await writeStdout(`${await usage(target)}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-V" || first === "version") {
    await writeStdout(`daemonctl ${VERSION} (${COMMIT})\n`);
    return 0;
  }
  const load = COMMANDS[first];
  if (!load) throw new UsageError(`unknown command "${first}"${didYouMean(first, [...COMMAND_NAMES, "help", "version"])}; commands: ${COMMAND_NAMES.join(", ")} (see \`daemonctl --help\`)`);
  const end = rest.indexOf("--");
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === "--help" || a === "-h")) {
    await writeStdout(`${await usage(first)}\n`);
    return 0;
  }
  return (await load()).default.run(rest);
}
