/**
 * The npm packages that carry the compiled binary, one per platform (the esbuild/biome pattern:
 * the `daemonctl` package lists them all as optional dependencies and npm installs the one whose
 * `os`, `cpu` and `libc` match). build.ts writes them; the library looks for them.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** Every target build.ts knows, as `<os>-<arch>[-musl]`. */
export const PLATFORM_TARGETS = ["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl", "darwin-x64", "darwin-arm64"] as const;
export type PlatformTarget = (typeof PLATFORM_TARGETS)[number];

/** `daemonctl-linux-x64`, `daemonctl-linux-arm64-musl`, … */
export function platformPackageName(target: PlatformTarget): string {
  return `daemonctl-${target}`;
}

/** The binary's path inside its platform package. */
export const PLATFORM_BINARY_PATH = "bin/daemonctl";

/**
 * The target of a running process, or null where none is built (Windows, 32-bit…). `musl`: the
 * C library is musl (Alpine), whose binaries a glibc system cannot run and the reverse.
 */
export function targetFor(platform: string, arch: string, musl: boolean): PlatformTarget | null {
  const os = platform === "linux" ? "linux" : platform === "darwin" ? "darwin" : null;
  const cpu = arch === "x64" ? "x64" : arch === "arm64" ? "arm64" : null;
  if (!os || !cpu) return null;
  const target = `${os}-${cpu}${os === "linux" && musl ? "-musl" : ""}`;
  return (PLATFORM_TARGETS as readonly string[]).includes(target) ? (target as PlatformTarget) : null;
}

/**
 * The field of a platform package's package.json that records its binary's sha256 (hex), which
 * the package's verify.js (its postinstall) checks the installed binary against.
 */
export const PLATFORM_BINARY_SHA256_FIELD = "daemonctlBinarySha256";

/**
 * Whether a built Linux binary needs musl: its ELF program interpreter (PT_INTERP, within the
 * first page) is /lib/ld-musl-*. A host build is a copy of the Bun that runs build.ts, so this
 * asks the binary itself rather than guessing from the system (a glibc Bun can run on Alpine
 * through gcompat, and its binaries are still glibc ones).
 */
export function isMuslBinary(path: string): boolean {
  const head = new Uint8Array(4096);
  const fd = openSync(path, "r");
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const bytes = head.subarray(0, n);
  const isElf = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  return isElf && new TextDecoder("latin1").decode(bytes).includes("/ld-musl-");
}
