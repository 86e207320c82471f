/** Output sinks for a child's stdout/stderr (see runner.ts `OutputSink`). */
import type { Writable } from "node:stream";
import type { RotatingLog } from "../state/logfile.ts";
import type { OutputSink, StreamName } from "./runner.ts";

const NEWLINE = new Uint8Array([10]);

/** Both streams into one rotating log file, as `2>&1` would. */
export function logFileSink(log: RotatingLog): OutputSink {
  const midLine: Record<StreamName, boolean> = { stdout: false, stderr: false };
  return {
    write(stream, chunk) {
      if (chunk.length === 0) return true;
      log.write(chunk);
      midLine[stream] = chunk[chunk.length - 1] !== 10;
      return true;
    },
    flush(stream) {
      if (midLine[stream]) log.write(NEWLINE);
      midLine[stream] = false;
    },
    drained: () => Promise.resolve(),
  };
}

/** Straight to our own stdout/stderr (a foreground host), honouring back-pressure. */
export function stdioSink(out: Writable = process.stdout, err: Writable = process.stderr): OutputSink {
  const streams: Record<StreamName, Writable> = { stdout: out, stderr: err };
  const midLine: Record<StreamName, boolean> = { stdout: false, stderr: false };
  let blocked: Writable | null = null;
  return {
    write(stream, chunk) {
      if (chunk.length === 0) return true;
      midLine[stream] = chunk[chunk.length - 1] !== 10;
      const ok = streams[stream].write(chunk);
      if (!ok) blocked = streams[stream];
      return ok;
    },
    flush(stream) {
      if (midLine[stream]) streams[stream].write(NEWLINE);
      midLine[stream] = false;
    },
    drained() {
      const b = blocked;
      blocked = null;
      return b ? new Promise((resolve) => b.once("drain", () => resolve())) : Promise.resolve();
    },
  };
}

/** Every chunk to both sinks (supervise: prefixed terminal output plus the daemon's log file). */
export function teeSink(primary: OutputSink, secondary: OutputSink): OutputSink {
  return {
    write(stream, chunk) {
      secondary.write(stream, chunk);
      return primary.write(stream, chunk);
    },
    flush(stream) {
      primary.flush(stream);
      secondary.flush(stream);
    },
    drained: () => primary.drained(),
  };
}
