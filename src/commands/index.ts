/**
 * The command registry: one lazy loader per command, so each command pays only for the modules
 * it uses (`status` must start fast). The CLI and generated artefacts (shell completion) read it.
 */
import type { Command } from "./_define.ts";

export const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  start: () => import("./start.ts"),
  stop: () => import("./stop.ts"),
  restart: () => import("./restart.ts"),
  delete: () => import("./delete.ts"),
  signal: () => import("./signal.ts"),
  status: () => import("./status.ts"),
  list: () => import("./list.ts"),
  logs: () => import("./logs.ts"),
  events: () => import("./events.ts"),
  metrics: () => import("./metrics.ts"),
  reconcile: () => import("./reconcile.ts"),
  reload: () => import("./reload.ts"),
  supervise: () => import("./supervise.ts"),
  schema: () => import("./schema.ts"),
  completion: () => import("./completion.ts"),
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

/** Other names a command answers to (`rm` as in docker and pm2); kept here so cli.ts loads nothing to resolve one. */
export const ALIASES: Record<string, string> = { rm: "delete" };
