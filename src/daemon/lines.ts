/**
 * Splits a byte stream into newline-terminated UTF-8 lines with a hard length limit, so a peer
 * that never sends a newline cannot grow our memory without bound.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private buffer = "";
  overflowed = false;

  constructor(private readonly maxChars = MAX_LINE_BYTES) {}

  /** Returns the complete lines in `chunk`; sets `overflowed` once the limit is exceeded. */
  push(chunk: Uint8Array): string[] {
    if (this.overflowed) return [];
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf("\n", start);
      if (nl < 0) break;
      if (nl - start > this.maxChars) {
        this.overflowed = true;
        return lines;
      }
      lines.push(this.buffer.slice(start, nl));
      start = nl + 1;
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
    if (this.buffer.length > this.maxChars) this.overflowed = true;
    return lines;
  }
}
