/**
 * Step 5 of the bind guard without polling: a host re-checks that it still owns its socket and
 * metadata whenever one of those files changes in the runtime directory (inotify via fs.watch).
 * inotify queues events while a process is frozen, so a host that was SIGSTOPped, reclaimed and
 * then resumed learns of its successor at once. Where watching is impossible, it polls once a
 * second instead.
 */
import { nodeFs } from "../../platform/files.ts";

/** Calls `onChange(name)` for changes to `NAME.sock` / `NAME.json` (null: unknown, check all). */
export function watchOwnership(runtimeDir: string, onChange: (name: string | null) => void): () => void {
  const poll = () => {
    const t = setInterval(() => onChange(null), 1000);
    return () => clearInterval(t);
  };
  try {
    let stopPolling: (() => void) | null = null;
    const watcher = nodeFs().watch(runtimeDir, (_event, filename) => {
      const f = filename ? String(filename) : null;
      if (f === null) return onChange(null);
      const m = /^(.+)\.(sock|json)$/.exec(f);
      if (m && !f.endsWith(".stop.json")) onChange(m[1]!);
    });
    watcher.on("error", () => {
      watcher.close();
      stopPolling ??= poll();
    });
    return () => {
      watcher.close();
      stopPolling?.();
    };
  } catch {
    return poll();
  }
}
