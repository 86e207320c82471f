/**
 * Splits a byte stream into newline-terminated UTF-8 lines with a hard limit in bytes, so a peer
 * that never sends a newline cannot grow our memory without bound.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

const decoder = new TextDecoder();

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private size = 0;
  overflowed = false;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** Returns the complete lines in `chunk`; sets `overflowed` once a line exceeds the limit. */
  push(chunk: Uint8Array): string[] {
    if (this.overflowed) return [];
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.size + nl - start > this.maxBytes) {
        this.overflowed = true;
        return lines;
      }
      lines.push(this.take(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.parts.push(chunk.slice(start));
      this.size += chunk.length - start;
      if (this.size > this.maxBytes) this.overflowed = true;
    }
    return lines;
  }

  private take(tail: Uint8Array): string {
    if (this.parts.length === 0) return decoder.decode(tail);
    const all = new Uint8Array(this.size + tail.length);
    let o = 0;
    for (const p of this.parts) {
      all.set(p, o);
      o += p.length;
    }
    all.set(tail, o);
    this.parts = [];
    this.size = 0;
    return decoder.decode(all);
  }
}
