/**
 * Newline-terminated UTF-8 lines from a byte stream, with a hard limit in bytes, so a peer that
 * never sends a newline cannot grow our memory without bound.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

const decoder = new TextDecoder();

/**
 * Lines on demand: input is kept as received and split only as lines are taken, so a reader that
 * falls behind holds raw bytes (bounded by how much it lets in), never a backlog of parsed lines.
 */
export class LineReader {
  /** Unread input; the first chunk from `offset`. */
  private chunks: Uint8Array[] = [];
  private offset = 0;
  /** Leading chunks already searched without finding a newline, and their bytes. */
  private scannedChunks = 0;
  private scannedBytes = 0;
  /** Bytes received and not yet taken as lines. */
  buffered = 0;
  overflowed = false;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  feed(chunk: Uint8Array): void {
    if (this.overflowed || chunk.length === 0) return;
    // A copy: a runtime may reuse the buffer it hands to a data callback.
    this.chunks.push(chunk.slice());
    this.buffered += chunk.length;
  }

  /** The next complete line, or null until more input arrives (or once `overflowed` is set). */
  next(): string | null {
    if (this.overflowed) return null;
    for (let i = this.scannedChunks; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const from = i === 0 ? this.offset : 0;
      const nl = chunk.indexOf(10, from);
      const length = this.scannedBytes + (nl < 0 ? chunk.length : nl) - from;
      if (length > this.maxBytes) {
        this.overflow();
        return null;
      }
      if (nl >= 0) return this.take(i, nl, length);
      this.scannedChunks = i + 1;
      this.scannedBytes = length;
    }
    return null;
  }

  /** Every complete line now available. */
  drain(): string[] {
    const lines: string[] = [];
    for (let line = this.next(); line !== null; line = this.next()) lines.push(line);
    return lines;
  }

  private take(last: number, nl: number, length: number): string {
    let line: string;
    if (last === 0) line = decoder.decode(this.chunks[0]!.subarray(this.offset, nl));
    else {
      const all = new Uint8Array(length);
      let o = 0;
      for (let i = 0; i <= last; i++) {
        const part = this.chunks[i]!.subarray(i === 0 ? this.offset : 0, i === last ? nl : undefined);
        all.set(part, o);
        o += part.length;
      }
      line = decoder.decode(all);
    }
    this.chunks.splice(0, last);
    this.offset = nl + 1;
    if (this.offset >= this.chunks[0]!.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    this.scannedChunks = 0;
    this.scannedBytes = 0;
    this.buffered -= length + 1;
    return line;
  }

  private overflow(): void {
    this.overflowed = true;
    this.chunks = [];
    this.buffered = 0;
  }
}

/** The push style: every complete line in each chunk as it arrives. */
export class LineSplitter {
  private readonly reader: LineReader;

  constructor(maxBytes = MAX_LINE_BYTES) {
    this.reader = new LineReader(maxBytes);
  }

  get overflowed(): boolean {
    return this.reader.overflowed;
  }

  /** Returns the complete lines in `chunk`; sets `overflowed` once a line exceeds the limit. */
  push(chunk: Uint8Array): string[] {
    this.reader.feed(chunk);
    return this.reader.drain();
  }
}
