/**
 * The progress line of a slow start on a terminal: `waiting for tcp:127.0.0.1:8000 (3 s of 10 s)`,
 * rewritten in place and erased when the wait ends. Nothing at all when stderr is not a terminal,
 * so logs and pipes see exactly what they saw before.
 */
import type { WaitProgress } from "../daemon/client/spawner.ts";
import { formatDuration } from "../schema/units.ts";

/** A start that is ready within this long never shows a line (no flicker on fast starts). */
const SHOW_AFTER_MS = 1_000;

export function terminalProgress(stream: { isTTY?: boolean; write(s: string): unknown } = process.stderr): ((p: WaitProgress | null) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let shown = "";
  return (p) => {
    if (p === null) {
      if (shown) stream.write("\r\x1b[K");
      shown = "";
      return;
    }
    if (p.elapsedMs < SHOW_AFTER_MS) return;
    const line = `waiting for ${p.waitingFor} (${formatDuration(Math.floor(p.elapsedMs / 1000) * 1000)} of ${formatDuration(p.readyTimeoutMs)})`;
    if (line === shown) return;
    stream.write(`\r\x1b[K${line}`);
    shown = line;
  };
}
