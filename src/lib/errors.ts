/**
 * What the library throws: one class per thing a caller may want to handle, each with a `code`
 * to switch on. Messages are for people; code never needs to parse them.
 *
 * Conditions a daemon is in (stopped, failed, hung…) are not errors: `status()` reports them in
 * the returned Status (`state`, `error.code`), exactly as `daemonctl status --json` does.
 */
import type { Status } from "../schema/status.ts";

export type DaemonctlErrorCode =
  | "binary-not-found"
  | "invalid-definition"
  | "invalid-name"
  | "unknown-daemon"
  | "unusable-directory"
  | "stopped-by-operator"
  | "start-failed"
  | "stop-failed"
  | "not-running"
  | "request-failed"
  | "protocol-mismatch"
  | "binary-failed";

export class DaemonctlError extends Error {
  constructor(
    readonly code: DaemonctlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DaemonctlError";
  }
}

/** No daemonctl binary to run hosts with: `DAEMONCTL_BIN`, the platform package and PATH all failed. */
export class BinaryNotFoundError extends DaemonctlError {
  constructor(
    message: string,
    /** Where it was looked for, in order, and why each failed. */
    readonly tried: string[],
  ) {
    super("binary-not-found", message);
    this.name = "BinaryNotFoundError";
  }
}

/** The definition (or a flag-equivalent field of it) is not valid; the message names the key. */
export class InvalidDefinitionError extends DaemonctlError {
  constructor(message: string) {
    super("invalid-definition", message);
    this.name = "InvalidDefinitionError";
  }
}

/** Daemon names are 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export class InvalidNameError extends DaemonctlError {
  constructor(readonly daemon: string) {
    super("invalid-name", `invalid daemon name "${daemon}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    this.name = "InvalidNameError";
  }
}

/** `stop` or `restart` of a name defined nowhere (no state, socket or metadata; not in the config). */
export class UnknownDaemonError extends DaemonctlError {
  constructor(
    readonly daemon: string,
    message: string,
  ) {
    super("unknown-daemon", message);
    this.name = "UnknownDaemonError";
  }
}

/** The runtime or state directory is unsafe (foreign owner, world-writable, a symlink) or not ours to enter. */
export class UnusableDirectoryError extends DaemonctlError {
  constructor(
    message: string,
    /** `symlink`, `not-directory`, `foreign-owner`, `world-writable` or `denied`. */
    readonly reason: string,
  ) {
    super("unusable-directory", message);
    this.name = "UnusableDirectoryError";
  }
}

/** An operator stopped this daemon (`daemonctl stop`): `ensureDaemon` leaves it stopped unless told `ifStopped: "start"`. */
export class StoppedByOperatorError extends DaemonctlError {
  constructor(
    readonly daemon: string,
    readonly status: Status,
  ) {
    super("stopped-by-operator", `${daemon} was stopped by an operator (\`daemonctl stop ${daemon}\`); \`daemonctl start ${daemon}\` runs it again`);
    this.name = "StoppedByOperatorError";
  }
}

/** The daemon did not start (its command failed, readiness timed out, its owner is busy…). */
export class StartFailedError extends DaemonctlError {
  constructor(
    readonly daemon: string,
    message: string,
    /** What is known of it now (`state` failed, backoff…), when anything is. */
    readonly status: Status | null,
    /** The exit code `daemonctl start` gave (a oneshot's own code, 1 otherwise). */
    readonly exitCode: number,
    /** Its last lines of output, when the start failed because it exited. */
    readonly logTail: string[],
  ) {
    super("start-failed", message);
    this.name = "StartFailedError";
  }
}

export class StopFailedError extends DaemonctlError {
  constructor(
    readonly daemon: string,
    message: string,
  ) {
    super("stop-failed", message);
    this.name = "StopFailedError";
  }
}

/** No verified live host serves this daemon (to `connect` to). */
export class NotRunningError extends DaemonctlError {
  constructor(
    readonly daemon: string,
    readonly status: Status,
  ) {
    super("not-running", `${daemon} has no live host to talk to (state: ${status.state}${status.error ? `; ${status.error.message}` : ""})`);
    this.name = "NotRunningError";
  }
}

/** A host answered a request with a protocol error (docs/protocol.md#errors-and-limits), or did not answer. */
export class RequestFailedError extends DaemonctlError {
  constructor(
    /** The protocol's error code (`stale`, `no-child`, `evicted`…), or `timeout` / `closed` / `already-subscribed`. */
    readonly reason: string,
    message: string,
  ) {
    super("request-failed", message);
    this.name = "RequestFailedError";
  }
}

/** The binary (or a host) speaks another protocol or schema version than this library. */
export class ProtocolMismatchError extends DaemonctlError {
  constructor(message: string) {
    super("protocol-mismatch", message);
    this.name = "ProtocolMismatchError";
  }
}

/** The daemonctl binary failed in a way none of the above describes (its stderr is in the message). */
export class BinaryFailedError extends DaemonctlError {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super("binary-failed", message);
    this.name = "BinaryFailedError";
  }
}
