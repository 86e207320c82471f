/**
 * The npm packages that carry the compiled binary, one per platform (the esbuild/biome pattern:
 * the `daemonctl` package lists them all as optional dependencies and npm installs the one whose
 * `os`, `cpu` and `libc` match). build.ts writes them; the library looks for them.
 */

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
