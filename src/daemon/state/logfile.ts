/**
 * `S/logs/NAME.log`, size-rotated: NAME.log → NAME.log.1 → … → NAME.log.<maxFiles>.
 *
 * Writes are synchronous appends to a regular file: fast, ordered, and never lost if the host
 * is killed right after. Readers take the last lines (`tailLines`) or follow the file across
 * rotations (`followLog`).
 */
import { Buffer } from "node:buffer";
import { closeSync, fchownSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { entryExists } from "../../platform/files.ts";
import { LineStartInserter } from "./linestarts.ts";

/**
 * With `timestamps`, every line starts with the time its first byte was written, ISO 8601 UTC and
 * a space (`2026-01-02T03:04:05.678Z hello`): `logs --since` and `--timestamps` need a time per
 * line, and only the writer knows it. Readers strip it (`splitStamp`); a line without one (a log
 * from before stamping) has no known time.
 */
const STAMP_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /;

export interface LogLine {
  /** Milliseconds since the epoch, or null when the line carries no stamp. */
  ts: number | null;
  /** The stamp as written ("" when none). */
  stamp: string;
  text: string;
}

export function splitStamp(line: string): LogLine {
  const m = STAMP_RE.exec(line);
  return m ? { ts: Date.parse(m[1]!), stamp: m[1]!, text: line.slice(m[0].length) } : { ts: null, stamp: "", text: line };
}

export class RotatingLog {
  private fd: number | null = null;
  private size = 0;
  private atLineStart = true;
  private readonly inserter = new LineStartInserter();
  private scratch = Buffer.alloc(0);
  private stampMs = -1;
  private stampCache = Buffer.alloc(0);

  constructor(
    readonly path: string,
    private readonly maxSize: number,
    private readonly maxFiles: number,
    /** Modes and group when the sockets are shared with a group (see host.ts `Sharing`). */
    private readonly sharing: { fileMode: number; dirMode: number; gid?: number | undefined } = { fileMode: 0o600, dirMode: 0o700 },
    private readonly timestamps = false,
  ) {}

  /**
   * Puts the current time before every line that starts in this chunk, into `scratch`: the
   * writes are synchronous, so one buffer serves every chunk.
   */
  private stamp(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0) return bytes;
    const out = this.inserter.run(bytes, this.stampBytes(), this.atLineStart, (size) => {
      if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(size + (size >> 2));
      return this.scratch;
    });
    this.atLineStart = bytes[bytes.length - 1] === 10;
    return out;
  }

  /** `toISOString()` and a space, formatted once per millisecond. */
  private stampBytes(): Uint8Array {
    const now = Date.now();
    if (now !== this.stampMs) {
      this.stampMs = now;
      this.stampCache = Buffer.from(`${new Date(now).toISOString()} `, "latin1");
    }
    return this.stampCache;
  }

  private open(): number {
    if (this.fd === null) {
      const dir = dirname(this.path);
      mkdirSync(dir, { recursive: true, mode: this.sharing.dirMode & 0o777 });
      this.fd = openSync(this.path, "a", this.sharing.fileMode);
      if (this.sharing.gid !== undefined) {
        try {
          fchownSync(this.fd, -1, this.sharing.gid);
        } catch {
          // not in that group
        }
      }
      this.size = fstatSync(this.fd).size;
    }
    return this.fd;
  }

  /**
   * Appends, keeping every file within `maxSize`: rotates before a write that would overflow,
   * and splits a chunk larger than the limit, at a newline when there is one.
   */
  write(chunk: Uint8Array | string): void {
    try {
      let bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      if (this.timestamps) bytes = this.stamp(bytes);
      while (bytes.length) {
        let fd = this.open();
        if (this.maxSize > 0 && this.size > 0 && this.size + bytes.length > this.maxSize) {
          const room = this.maxSize - this.size;
          const nl = room > 0 ? bytes.subarray(0, room).lastIndexOf(10) : -1;
          if (nl >= 0) {
            this.append(fd, bytes.subarray(0, nl + 1));
            bytes = bytes.subarray(nl + 1);
          }
          this.rotate();
          fd = this.open();
        }
        const piece = this.maxSize > 0 && bytes.length > this.maxSize ? cutAtNewline(bytes, this.maxSize) : bytes;
        this.append(fd, piece);
        bytes = bytes.subarray(piece.length);
      }
    } catch {
      // a full disk must not take the daemon down with it; the output is lost, the daemon lives
    }
  }

  private append(fd: number, bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    this.size += bytes.length;
  }

  private rotate(): void {
    this.close();
    try {
      unlinkSync(`${this.path}.${this.maxFiles}`);
    } catch {
      // nothing to drop yet
    }
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch {
        // gaps are fine
      }
    }
    try {
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // already moved
    }
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // closed
      }
      this.fd = null;
    }
  }
}

/** The longest prefix of `bytes` up to `max` that ends with a newline (or exactly `max`). */
function cutAtNewline(bytes: Uint8Array, max: number): Uint8Array {
  const nl = bytes.subarray(0, max).lastIndexOf(10);
  return bytes.subarray(0, nl >= 0 ? nl + 1 : max);
}

/** The last `n` lines of a log file, without their stamps (for failure reports). */
export function tailLines(path: string, n: number): string[] {
  return readLogLines(path, n).map((l) => l.text);
}

/** The last `n` lines of a log file, split from their stamps. */
export function readLogLines(path: string, n: number): LogLine[] {
  try {
    const lines = readFileSync(path, "utf8").split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-n).map(splitStamp);
  } catch {
    return [];
  }
}

/** Every line of a log and its rotated files (NAME.log.N … NAME.log.1, NAME.log), oldest first. */
export function readAllLogLines(path: string): LogLine[] {
  const rotated: string[] = [];
  for (let i = 1; entryExists(`${path}.${i}`); i++) rotated.unshift(`${path}.${i}`);
  return [...rotated, path].flatMap((f) => readLogLines(f, Number.MAX_SAFE_INTEGER));
}

/** The longest line `logs -f` holds back waiting for its end (the control protocol's limit too). */
const MAX_FOLLOWED_LINE = 1024 * 1024;

/** Cuts followed chunks into whole lines (a partial line waits for its end). */
export class LineSplitter {
  private pending = "";
  private readonly decoder = new TextDecoder();

  /**
   * A daemon may write a line with no end (`logs -f` must not hold it all): past
   * MAX_FOLLOWED_LINE of one line, what is pending is given out as a line of its own.
   */
  push(chunk: Uint8Array): LogLine[] {
    const text = this.pending + this.decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.pending = parts.pop()!;
    if (this.pending.length > MAX_FOLLOWED_LINE) {
      parts.push(this.pending);
      this.pending = "";
    }
    return parts.map(splitStamp);
  }
}

/**
 * Follows a log file until `stopped()`: polls it 4×/s, hands appended bytes to `write`, and
 * starts over from the beginning when rotation replaces the file (new inode) or truncates it.
 */
export async function followLog(path: string, write: (chunk: Uint8Array) => void, stopped: () => boolean): Promise<void> {
  let ino = -1;
  let pos = 0;
  try {
    const st = statSync(path);
    ino = st.ino;
    pos = st.size;
  } catch {
    // not yet created
  }
  const buf = Buffer.alloc(64 * 1024);
  while (!stopped()) {
    try {
      const st = statSync(path);
      if (st.ino !== ino || st.size < pos) {
        ino = st.ino;
        pos = 0;
      }
      if (st.size > pos) {
        const fd = openSync(path, "r");
        try {
          let n: number;
          while ((n = readSync(fd, buf, 0, buf.length, pos)) > 0) {
            write(Buffer.from(buf.subarray(0, n)));
            pos += n;
          }
        } finally {
          closeSync(fd);
        }
      }
    } catch {
      // rotated away or not there yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
