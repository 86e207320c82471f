/** `R/NAME.json`: who owns the control socket (SPEC §2). Written by the host right after it binds. */
import * as z from "zod/mini";
import { isoTime, processIdentity } from "./common.ts";

export const METADATA_SCHEMA = "daemonctl/metadata@1";

/** A child process: its pid, start identity, and the invocation id placed in its environment. */
export const childRef = z.object({ pid: z.int().check(z.positive()), identity: processIdentity, invocation: z.nullable(z.string()) });
export type ChildRef = z.infer<typeof childRef>;

export const metadata = z.looseObject({
  schema: z.literal(METADATA_SCHEMA),
  name: z.string(),
  pid: z.int().check(z.positive()),
  pidIdentity: processIdentity,
  socketPath: z.string(),
  /**
   * The unique path the socket was bound at before being renamed into place. /proc/net/unix
   * reports this name, which lets a reclaimer prove a pid really holds this daemon's socket.
   * Null when the file was reconciled from a status answer; the host restores it.
   */
  bindPath: z.nullable(z.string()),
  startedAt: isoTime,
  /** Definition identity (freshness hash) the host runs. */
  identity: z.string(),
  /** The current child, so a reclaiming host can kill an orphan after verifying it. */
  child: z.nullable(childRef),
  version: z.string(),
  protocolVersion: z.int(),
});
export type Metadata = z.infer<typeof metadata>;
