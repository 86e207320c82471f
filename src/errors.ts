/** Errors that end a command with a specific exit code and a message for the user. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Bad flags, names or config: exit 2 (docs/status.md#other-commands-exit-codes). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}
