/**
 * `daemonctl completion bash|zsh|fish`: shell completion generated from the command and flag
 * tables, so it cannot drift from the CLI. Daemon names come from `completion --names`.
 */
import { knownDaemons } from "../daemon/state/known.ts";
import { SCHEMAS } from "../schema/index.ts";
import { writeStdout } from "../platform/files.ts";
import { UsageError } from "../errors.ts";
import { bool, parseArgv, type FlagSpecs } from "./_argv.ts";
import { defineCommand, type Command } from "./_define.ts";
import { dirsFrom, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  shell: { type: "positional", description: "bash, zsh or fish", required: false },
  names: { type: "boolean", description: "Print the known daemon names, one per line (the scripts call this)" },
});

/** Commands whose positional arguments are daemon names. */
const TAKES_NAMES = ["start", "stop", "restart", "delete", "rm", "signal", "status", "logs", "events", "metrics"];
/** Flags whose value is a path: completed with file names. */
const PATH_FLAGS = ["watch", "env-file", "cwd", "config", "runtime-dir", "state-dir", "procfile", "output"];

interface Spec {
  name: string;
  description: string;
  flags: Array<{ long: string; short?: string; takesValue: boolean; description: string }>;
}

async function specs(): Promise<Spec[]> {
  const { COMMANDS } = await import("./index.ts");
  const out: Spec[] = [];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const cmd: Command = (await load()).default;
    out.push({ name, description: cmd.meta.description, flags: flagList(cmd.flags) });
    for (const alias of cmd.meta.aliases ?? []) out.push({ name: alias, description: `Same as ${name}`, flags: flagList(cmd.flags) });
  }
  out.push({ name: "help", description: "Show help for a command", flags: [] }, { name: "version", description: "Print the version", flags: [] });
  return out;
}

function flagList(f: FlagSpecs): Spec["flags"] {
  const out: Spec["flags"] = [];
  for (const [key, spec] of Object.entries(f)) {
    if (spec.type === "positional") continue;
    const aliases = spec.alias === undefined ? [] : Array.isArray(spec.alias) ? spec.alias : [spec.alias];
    const short = aliases.find((a) => a.length === 1);
    // A switch that is on by default (`color`, `events --follow`) is spelled --no-KEY when used.
    const long = key === "color" || (spec.type === "boolean" && spec.default === true) ? `no-${key}` : key;
    out.push({ long, ...(short ? { short } : {}), takesValue: spec.type === "string", description: spec.description });
  }
  return out;
}

const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

function bash(all: Spec[]): string {
  const cases = all
    .map((c) => `    ${c.name}) flags=${q(c.flags.flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]).join(" "))} ;;`)
    .join("\n");
  const valued = all.flatMap((c) => c.flags.filter((f) => f.takesValue).map((f) => `--${f.long}`));
  return `# daemonctl completion for bash. Load with: eval "$(daemonctl completion bash)"
_daemonctl() {
  local cur prev cmd flags i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${q(all.map((c) => c.name).join(" "))} -- "$cur"))
    return
  fi
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [ "\${COMP_WORDS[i]}" = "--" ]; then
      COMPREPLY=($(compgen -c -- "$cur"))
      return
    fi
  done
  case "$prev" in
    ${PATH_FLAGS.map((f) => `--${f}`).join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    ${[...new Set(valued.filter((v) => !PATH_FLAGS.includes(v.slice(2))))].join("|")}) return ;;
  esac
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  case "$cmd" in
    ${TAKES_NAMES.join("|")}) COMPREPLY=($(compgen -W "$(daemonctl completion --names 2>/dev/null)" -- "$cur")) ;;
    schema) COMPREPLY=($(compgen -W ${q(Object.keys(SCHEMAS).join(" "))} -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
  esac
}
complete -F _daemonctl daemonctl
`;
}

function zsh(all: Spec[]): string {
  const describe = all.map((c) => `    ${q(`${c.name}:${c.description.replace(/:/g, "\\:")}`)}`).join("\n");
  const cases = all.map((c) => `    ${c.name}) flags=(${c.flags.map((f) => q(`--${f.long}`)).join(" ")}) ;;`).join("\n");
  return `#compdef daemonctl
# daemonctl completion for zsh. Load with: source <(daemonctl completion zsh)
_daemonctl() {
  local -a commands flags
  commands=(
${describe}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  if (( \${words[(I)--]} && \${words[(I)--]} < CURRENT )); then
    _command_names
    return
  fi
  case \${words[CURRENT-1]} in
    ${PATH_FLAGS.map((f) => `--${f}`).join("|")}) _files; return ;;
  esac
  case \${words[2]} in
${cases}
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $flags
    return
  fi
  case \${words[2]} in
    ${TAKES_NAMES.join("|")}) compadd -- \${(f)"$(daemonctl completion --names 2>/dev/null)"} ;;
    schema) compadd -- ${Object.keys(SCHEMAS).join(" ")} ;;
    completion) compadd -- bash zsh fish ;;
  esac
}
compdef _daemonctl daemonctl
`;
}

function fish(all: Spec[]): string {
  const lines = ["# daemonctl completion for fish. Load with: daemonctl completion fish | source", "complete -c daemonctl -f"];
  for (const c of all) lines.push(`complete -c daemonctl -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`);
  for (const c of all) {
    for (const f of c.flags) {
      const parts = [`complete -c daemonctl -n ${q(`__fish_seen_subcommand_from ${c.name}`)} -l ${f.long}`];
      if (f.short) parts.push(`-s ${f.short}`);
      if (f.takesValue) parts.push(PATH_FLAGS.includes(f.long) ? "-r -F" : "-r");
      parts.push(`-d ${q(f.description)}`);
      lines.push(parts.join(" "));
    }
  }
  lines.push(`complete -c daemonctl -n ${q(`__fish_seen_subcommand_from ${TAKES_NAMES.join(" ")}`)} -a '(daemonctl completion --names 2>/dev/null)'`);
  lines.push(`complete -c daemonctl -n '__fish_seen_subcommand_from schema' -a ${q(Object.keys(SCHEMAS).join(" "))}`);
  lines.push(`complete -c daemonctl -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  return `${lines.join("\n")}\n`;
}

export default defineCommand({
  meta: {
    name: "completion",
    description: "Print a shell completion script (bash, zsh or fish)",
    usage: 'Load it:\n  bash: eval "$(daemonctl completion bash)"   (or save it under /etc/bash_completion.d/daemonctl)\n  zsh:  source <(daemonctl completion zsh)\n  fish: daemonctl completion fish | source',
  },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "completion");
    if (bool(p, "names")) {
      const names = knownDaemons(await dirsFrom(p));
      await writeStdout(names.length ? `${names.join("\n")}\n` : "");
      return 0;
    }
    const shell = p.positionals[0];
    const make = shell === "bash" ? bash : shell === "zsh" ? zsh : shell === "fish" ? fish : null;
    if (!make || p.positionals.length > 1) throw new UsageError(`which shell? daemonctl completion bash|zsh|fish (got "${p.positionals.join(" ")}")`);
    await writeStdout(make(await specs()));
    return 0;
  },
});
