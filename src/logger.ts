/** Where daemonctl's own messages go: the console (commands, supervise) or a daemon's log file (a detached host). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
