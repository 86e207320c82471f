/**
 * What `logs` prints: the recent lines of one daemon or of all of them interleaved by time, each
 * line `[name] ` prefixed when there are several (as `pm2 logs` does), optionally with its
 * write time. Times come from the stamps the hosts write (state/logfile.ts); a line without
 * one (written before stamping) sorts with the line before it and never passes `--since`.
 */
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { followLog, LineSplitter, readAllLogLines, readLogLines, type LogLine } from "../state/logfile.ts";

export interface LogViewOptions {
  dirs: Dirs;
  names: string[];
  /** Lines per daemon; null for all of them (the default with `since`). */
  lines: number | null;
  /** Only lines written at or after this time (ms since the epoch). */
  sinceMs: number | null;
  timestamps: boolean;
  /** `[name] ` before each line. */
  prefix: boolean;
}

interface Timed extends LogLine {
  name: string;
  order: number;
}

export function recentLines(o: LogViewOptions): string[] {
  const all: Timed[] = [];
  for (const name of o.names) all.push(...linesOf(name, o));
  all.sort((a, b) => a.order - b.order);
  return all.map((l) => format(l.name, l, o));
}

function linesOf(name: string, o: LogViewOptions): Timed[] {
  if (o.lines === 0) return [];
  const path = daemonFiles(o.dirs, name).log;
  let lines = o.sinceMs === null ? readLogLines(path, o.lines ?? Number.MAX_SAFE_INTEGER) : readAllLogLines(path).filter((l) => l.ts !== null && l.ts >= o.sinceMs!);
  if (o.lines !== null) lines = lines.slice(-o.lines);
  let last = -Infinity;
  return lines.map((l) => {
    if (l.ts !== null) last = l.ts;
    return { ...l, name, order: last };
  });
}

function format(name: string, l: LogLine, o: LogViewOptions): string {
  return `${o.prefix ? `[${name}] ` : ""}${o.timestamps && l.stamp ? `${l.stamp} ` : ""}${l.text}`;
}

/** Follows every daemon's log until `stopped()`, writing whole formatted lines as they come. */
export async function followLogs(o: LogViewOptions, write: (text: string) => void, stopped: () => boolean): Promise<void> {
  await Promise.all(
    o.names.map((name) => {
      const splitter = new LineSplitter();
      return followLog(
        daemonFiles(o.dirs, name).log,
        (chunk) => {
          const lines = splitter.push(chunk);
          if (lines.length) write(lines.map((l) => `${format(name, l, o)}\n`).join(""));
        },
        stopped,
      );
    }),
  );
}
