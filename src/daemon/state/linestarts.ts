/**
 * Inserting bytes at line starts (the supervisor's `[name] ` prefix, the log file's time stamp),
 * the hot loop of prefixed output.
 *
 * One native `indexOf` (memchr) per line and native `Buffer.copy` (memcpy) for each piece: no JS
 * object per line and no string round trip. bench/prefix.ts measures it against sed.
 */
import { Buffer } from "node:buffer";

export class LineStartInserter {
  /** Newline offsets of the current chunk, reused between chunks. */
  private newlines = new Int32Array(4096);

  /**
   * Copies `chunk` into a buffer from `alloc` (given the exact size needed) with `insert` before
   * every line that starts in it: the first byte when `atLineStart`, and each byte after a
   * newline but the end. Returns the filled bytes (a view when `alloc` gave more room).
   */
  run(chunk: Uint8Array, insert: Uint8Array, atLineStart: boolean, alloc: (size: number) => Uint8Array): Uint8Array {
    const n = chunk.length;
    const src = asBuffer(chunk);
    const count = this.scan(src);
    const nl = this.newlines;
    const endsLine = count > 0 && nl[count - 1] === n - 1;
    const starts = count - (endsLine ? 1 : 0) + (atLineStart ? 1 : 0);
    const size = n + starts * insert.length;
    const out = alloc(size);
    const ins = asBuffer(insert);
    let o = atLineStart ? ins.copy(out, 0) : 0;
    let s = 0;
    for (let k = 0; k < count; k++) {
      const e = nl[k]! + 1;
      o += src.copy(out, o, s, e);
      s = e;
      if (e < n) o += ins.copy(out, o);
    }
    if (s < n) src.copy(out, o, s, n);
    return out.length === size ? out : out.subarray(0, size);
  }

  /** Records the newline offsets of `src`; returns how many. */
  private scan(src: Buffer): number {
    let nl = this.newlines;
    let count = 0;
    for (let at = src.indexOf(10); at >= 0; at = src.indexOf(10, at + 1)) {
      if (count === nl.length) {
        const grown = new Int32Array(count * 2);
        grown.set(nl);
        nl = this.newlines = grown;
      }
      nl[count++] = at;
    }
    return count;
  }
}

/** A Buffer view of the same bytes (no copy), for its native `copy` and `indexOf`. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
