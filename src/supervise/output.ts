/**
 * Prefixed output for `supervise` (docs/containers.md#docker): each line of a daemon's output as
 * `[name] line` on the matching stream, names padded to align, coloured on a TTY, invalid UTF-8
 * replaced, a partial last line finished at exit.
 *
 * Byte-level on purpose: no per-line strings, one output buffer and one write per chunk (the
 * consumer's back-pressure pauses the daemon; see daemon/host/runner.ts). bench/prefix.ts compares
 * it with `sed 's/^/[x] /'`.
 */
import { Buffer, isUtf8 } from "node:buffer";
import type { Writable } from "node:stream";
import type { OutputSink, StreamName } from "../daemon/host/runner.ts";
import { LineStartInserter } from "../daemon/state/linestarts.ts";

const REPLACEMENT = [0xef, 0xbf, 0xbd];
const encoder = new TextEncoder();

/**
 * Inserts `prefix` at the start of every line and replaces invalid UTF-8 with U+FFFD, carrying an
 * incomplete multi-byte sequence over to the next chunk.
 */
export class LinePrefixer {
  private atLineStart = true;
  private carry = new Uint8Array(4);
  private carryLen = 0;
  /** Reused between chunks; each result is copied out because writes may still reference it. */
  private scratch = new Uint8Array(0);

  private readonly inserter = new LineStartInserter();

  constructor(
    private readonly prefix: Uint8Array,
    private readonly alloc: (size: number) => Uint8Array = (size) => Buffer.allocUnsafe(size),
  ) {}

  get midLine(): boolean {
    return !this.atLineStart || this.carryLen > 0;
  }

  transform(input: Uint8Array): Uint8Array {
    let chunk = input;
    if (this.carryLen) {
      const joined = new Uint8Array(this.carryLen + input.length);
      joined.set(this.carry.subarray(0, this.carryLen));
      joined.set(input, this.carryLen);
      chunk = joined;
      this.carryLen = 0;
    }
    // Fast path: the chunk (minus a sequence cut off at its end) is valid UTF-8, checked natively;
    // then only line starts need work, done with indexOf and memcpy.
    const cut = incompleteTail(chunk);
    const body = cut ? chunk.subarray(0, chunk.length - cut) : chunk;
    if (isUtf8(body)) {
      if (cut) {
        this.carry.set(chunk.subarray(chunk.length - cut));
        this.carryLen = cut;
      }
      return this.prefixLines(body);
    }
    return this.repair(chunk);
  }

  /** Inserts the prefix at line starts of valid text, into a buffer from `alloc` (fresh or recycled after its write). */
  private prefixLines(chunk: Uint8Array): Uint8Array {
    if (chunk.length === 0) return chunk;
    const out = this.inserter.run(chunk, this.prefix, this.atLineStart, this.alloc);
    this.atLineStart = chunk[chunk.length - 1] === 10;
    return out;
  }

  /** Byte by byte: replaces invalid sequences with U+FFFD while inserting prefixes. */
  private repair(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    const p = this.prefix;
    const plen = p.length;
    let lines = 1;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
    const need = n * 3 + lines * plen;
    if (this.scratch.length < need) this.scratch = new Uint8Array(need + (need >> 2));
    const out = this.scratch;
    let atStart = this.atLineStart;
    let o = 0;
    let i = 0;
    // One tight loop: JIT-friendly byte copies beat many small subarray/set calls here.
    while (i < n) {
      const b = chunk[i]!;
      if (atStart) {
        for (let k = 0; k < plen; k++) out[o++] = p[k]!;
        atStart = false;
      }
      if (b < 0x80) {
        out[o++] = b;
        i++;
        if (b === 10) atStart = true;
        continue;
      }
      // A multi-byte sequence: validate it (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
      const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
      if (len !== 0 && i + len > n && sequencePrefixValid(chunk, i, n)) {
        // Possibly valid but cut by the chunk boundary: hold it for the next chunk.
        this.carry.set(chunk.subarray(i, n));
        this.carryLen = n - i;
        break;
      }
      if (len !== 0 && i + len <= n && sequenceValid(chunk, i, len)) {
        for (let k = 0; k < len; k++) out[o++] = chunk[i + k]!;
        i += len;
      } else {
        out[o++] = 0xef;
        out[o++] = 0xbf;
        out[o++] = 0xbd;
        i++;
      }
    }
    this.atLineStart = atStart;
    return out.slice(0, o);
  }

  /** End of stream: an unfinished sequence becomes U+FFFD and an unfinished line gets its newline. */
  finish(): Uint8Array {
    const parts: number[] = [];
    if (this.carryLen) {
      if (this.atLineStart) parts.push(...this.prefix);
      parts.push(...REPLACEMENT);
      this.carryLen = 0;
      this.atLineStart = false;
    }
    if (!this.atLineStart) parts.push(10);
    this.atLineStart = true;
    return new Uint8Array(parts);
  }
}

/** Length of a multi-byte sequence cut off at the end of `c` (0 if the end is clean). */
function incompleteTail(c: Uint8Array): number {
  const n = c.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = c[n - back]!;
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return len > back ? back : 0;
    }
  }
  return 0;
}

function continuation(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

function secondByteOk(lead: number, b: number): boolean {
  if (lead === 0xe0) return b >= 0xa0 && b <= 0xbf;
  if (lead === 0xed) return b >= 0x80 && b <= 0x9f;
  if (lead === 0xf0) return b >= 0x90 && b <= 0xbf;
  if (lead === 0xf4) return b >= 0x80 && b <= 0x8f;
  return continuation(b);
}

function sequenceValid(c: Uint8Array, i: number, len: number): boolean {
  if (!secondByteOk(c[i]!, c[i + 1]!)) return false;
  for (let k = 2; k < len; k++) if (!continuation(c[i + k])) return false;
  return true;
}

function sequencePrefixValid(c: Uint8Array, i: number, n: number): boolean {
  if (i + 1 < n && !secondByteOk(c[i]!, c[i + 1]!)) return false;
  for (let k = i + 2; k < n; k++) if (!continuation(c[k])) return false;
  return true;
}

/** Splits a byte stream into lines (bytes) for `--log-format json`; long lines are cut at `max`. */
export class LineCollector {
  private parts: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly max = 64 * 1024) {}

  push(chunk: Uint8Array, emit: (line: Uint8Array) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.add(chunk.subarray(start, nl), emit);
      emit(this.take());
      start = nl + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start), emit);
  }

  flush(emit: (line: Uint8Array) => void): void {
    if (this.size) emit(this.take());
  }

  private add(bytes: Uint8Array, emit: (line: Uint8Array) => void): void {
    let rest = bytes;
    while (this.size + rest.length >= this.max) {
      const room = this.max - this.size;
      this.parts.push(rest.slice(0, room));
      this.size += room;
      emit(this.take());
      rest = rest.subarray(room);
    }
    if (rest.length) {
      this.parts.push(rest.slice());
      this.size += rest.length;
    }
  }

  private take(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    this.parts = [];
    this.size = 0;
    return out;
  }
}

const COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export interface PrefixOptions {
  /** Width the bracketed names are padded to (the longest selected name + 2). */
  width: number;
  colourIndex: number;
  colour: { stdout: boolean; stderr: boolean };
  format: "text" | "json";
}

export function prefixBytes(name: string, opts: PrefixOptions, colour: boolean): Uint8Array {
  const label = `[${name}]`.padEnd(opts.width);
  const c = COLOURS[opts.colourIndex % COLOURS.length];
  return encoder.encode(colour ? `\x1b[${c}m${label}\x1b[0m ` : `${label} `);
}

/** A daemon's stdout/stderr into the supervisor's stdout/stderr, prefixed or as JSON lines. */
export function prefixSink(name: string, out: Record<StreamName, Writable>, opts: PrefixOptions): OutputSink {
  let blocked: Writable | null = null;
  const write = (stream: StreamName, bytes: Uint8Array): boolean => {
    if (bytes.length === 0) return true;
    const ok = out[stream].write(bytes);
    if (!ok) blocked = out[stream];
    return ok;
  };
  const drained = () => {
    const b = blocked;
    blocked = null;
    return b ? new Promise<void>((resolve) => b.once("drain", () => resolve())) : Promise.resolve();
  };
  if (opts.format === "json") {
    const decoder = new TextDecoder("utf-8");
    const collectors: Record<StreamName, LineCollector> = { stdout: new LineCollector(), stderr: new LineCollector() };
    const record = (stream: StreamName) => (line: Uint8Array) => {
      const text = decoder.decode(line).replace(/\r$/, "");
      write(stream, encoder.encode(`${JSON.stringify({ ts: new Date().toISOString(), name, stream, line: text })}\n`));
    };
    return {
      write(stream, chunk) {
        collectors[stream].push(chunk, record(stream));
        return blocked === null;
      },
      flush(stream) {
        collectors[stream].flush(record(stream));
      },
      drained,
    };
  }
  const pool = outputPool();
  const prefixers: Record<StreamName, LinePrefixer> = {
    stdout: new LinePrefixer(prefixBytes(name, opts, opts.colour.stdout), pool.alloc),
    stderr: new LinePrefixer(prefixBytes(name, opts, opts.colour.stderr), pool.alloc),
  };
  const writePooled = (stream: StreamName, bytes: Uint8Array): boolean => {
    if (bytes.length === 0) return true;
    const ok = out[stream].write(bytes, () => pool.release(bytes));
    if (!ok) blocked = out[stream];
    return ok;
  };
  return {
    write: (stream, chunk) => writePooled(stream, prefixers[stream].transform(chunk)),
    flush: (stream) => void write(stream, prefixers[stream].finish()),
    drained,
  };
}

const POOLED_SIZE = 256 * 1024;

/**
 * Output buffers reused once the stream has written them (its write callback): a fresh buffer
 * per chunk costs page faults and GC (~10% of end-to-end prefixing, bench/supervise.ts prefix).
 * Only buffers this sink allocated come back (each output is a fresh buffer or a pooled one,
 * never the child's chunk); a few are kept, the rest left to the GC.
 */
function outputPool(): { alloc: (size: number) => Uint8Array; release: (bytes: Uint8Array) => void } {
  const free: ArrayBuffer[] = [];
  return {
    alloc(size) {
      const b = free.pop();
      if (b && b.byteLength >= size) return new Uint8Array(b);
      return Buffer.allocUnsafeSlow(Math.max(size, POOLED_SIZE)); // never a shared slab
    },
    release(bytes) {
      if (bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength >= POOLED_SIZE && free.length < 4) free.push(bytes.buffer);
    },
  };
}
