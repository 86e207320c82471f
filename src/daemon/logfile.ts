/**
 * `S/logs/NAME.log`, size-rotated: NAME.log → NAME.log.1 → … → NAME.log.<maxFiles>.
 *
 * Writes are synchronous appends to a regular file: fast, ordered, and never lost if the host
 * is killed right after.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";

export class RotatingLog {
  private fd: number | null = null;
  private size = 0;

  constructor(
    readonly path: string,
    private readonly maxSize: number,
    private readonly maxFiles: number,
  ) {}

  private open(): number {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.path, "a", 0o600);
      this.size = fstatSync(this.fd).size;
    }
    return this.fd;
  }

  write(chunk: Uint8Array | string): void {
    try {
      const fd = this.open();
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      this.size += bytes.length;
      if (this.maxSize > 0 && this.size >= this.maxSize) this.rotate();
    } catch {
      // a full disk must not take the daemon down with it; the output is lost, the daemon lives
    }
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
