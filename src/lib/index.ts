/**
 * daemonctl as a library (docs/library.md): the bind guard, spawner and status of the
 * `daemonctl` CLI for TypeScript programs that run their own background daemons. The same
 * daemons, directories and protocol as the CLI: `daemonctl status` sees what this starts, and
 * this respects what an operator did with `daemonctl stop`.
 *
 * @example
 * import { ensureDaemon, connect } from "daemonctl";
 * const s = await ensureDaemon({ name: "cache", command: ["node", "cache.js"], ready: "unix:/tmp/cache.sock" });
 */
import "./node-builtins.ts";
export { ensureDaemon, status, list, stop, restart } from "./daemons.ts";
export type { ClientOptions, ActOptions, EnsureOptions, DaemonDefinition, StopResult } from "./daemons.ts";
export { connect } from "./connection.ts";
export type { ConnectOptions, DaemonConnection, SignalResult } from "./connection.ts";
export { findBinary } from "./binary.ts";
export {
  DaemonctlError,
  BinaryNotFoundError,
  InvalidDefinitionError,
  InvalidNameError,
  UnknownDaemonError,
  UnusableDirectoryError,
  StoppedByOperatorError,
  StartFailedError,
  StopFailedError,
  NotRunningError,
  RequestFailedError,
  ProtocolMismatchError,
  BinaryFailedError,
} from "./errors.ts";
export type { DaemonctlErrorCode } from "./errors.ts";
export { PLATFORM_TARGETS, platformPackageName } from "./platform-package.ts";
export type { PlatformTarget } from "./platform-package.ts";
export * as schemas from "./schemas.ts";
export type * from "./schemas.ts";
export { VERSION } from "../version.ts";
export { PROTOCOL_VERSION } from "../schema/constants.ts";
