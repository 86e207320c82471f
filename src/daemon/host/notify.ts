/**
 * The sd_notify protocol's messages (docs/lifecycle.md#notify-readiness-ready-notify), as pure
 * parsing: what the runner must do for one datagram.
 */

export interface NotifyActions {
  mainPid(pid: number): void;
  status(text: string): void;
  reloading(): void;
  stopping(): void;
  ready(): void;
  watchdog(trigger: boolean): void;
  /** EXTEND_TIMEOUT_USEC, in milliseconds (rounded up). */
  extendTimeout(ms: number): void;
}

/** `KEY=VALUE` lines; the last assignment of a key wins, as in systemd. Lines without `=` are ignored. */
export function parseNotify(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/**
 * Applies one datagram. The order is systemd's, not the sender's: the main pid and status first,
 * so a `MAINPID=…\nREADY=1` datagram is ready with its main process already known.
 */
export function applyNotify(text: string, act: NotifyActions): void {
  const m = parseNotify(text);
  const mainPid = m.get("MAINPID");
  if (mainPid !== undefined && /^\d+$/.test(mainPid) && Number(mainPid) > 0) act.mainPid(Number(mainPid));
  const status = m.get("STATUS");
  if (status !== undefined) act.status(status);
  if (m.get("RELOADING") === "1") act.reloading();
  if (m.get("STOPPING") === "1") act.stopping();
  if (m.get("READY") === "1") act.ready();
  const wd = m.get("WATCHDOG");
  if (wd === "1" || wd === "trigger") act.watchdog(wd === "trigger");
  const extend = m.get("EXTEND_TIMEOUT_USEC");
  if (extend !== undefined && /^\d+$/.test(extend)) act.extendTimeout(Math.ceil(Number(extend) / 1000));
}
