/**
 * Writes the npm package that carries one compiled binary (dist/npm/daemonctl-<target>/), for
 * build.ts. The `daemonctl` package lists these as optional dependencies; npm installs the one
 * whose `os`, `cpu` and `libc` match the machine (docs/releasing.md).
 */
import { chmodSync, copyFileSync, linkSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PLATFORM_BINARY_PATH, PLATFORM_BINARY_SHA256_FIELD, platformPackageName, type PlatformTarget } from "../../src/lib/platform-package.ts";

/** What the platform packages copy from the root package.json. */
export interface RootPackage {
  version: string;
  license?: string;
  repository?: unknown;
  homepage?: string;
  bugs?: unknown;
}

const OS_NAMES: Record<string, string> = { linux: "Linux", darwin: "macOS" };

/** `os`, `cpu` and (on Linux) `libc` of a target, as npm matches them. */
function platformFields(target: PlatformTarget): { os: string[]; cpu: string[]; libc?: string[] } {
  const [os, cpu, variant] = target.split("-") as [string, string, string | undefined];
  // npm ≥ 10 skips a package whose libc differs: a glibc binary cannot start on Alpine, nor a
  // musl one on Debian, so each Linux package names its own.
  return os === "linux" ? { os: [os], cpu: [cpu], libc: [variant === "musl" ? "musl" : "glibc"] } : { os: [os], cpu: [cpu] };
}

function describeTarget(target: PlatformTarget): string {
  const { os, cpu, libc } = platformFields(target);
  return `${OS_NAMES[os[0]!] ?? os[0]} ${cpu[0]}${libc ? ` (${libc[0]})` : ""}`;
}

function readme(name: string, target: PlatformTarget): string {
  return `# ${name}

The compiled \`daemonctl\` binary for ${describeTarget(target)}, at \`${PLATFORM_BINARY_PATH}\`.

Do not install this package directly: install [\`daemonctl\`](https://www.npmjs.com/package/daemonctl),
which depends on every platform package and lets npm pick the one for your machine.

Its postinstall (\`node verify.js\`) checks the binary's sha256 against the one recorded in
\`package.json\` (\`${PLATFORM_BINARY_SHA256_FIELD}\`) and fails the install on a mismatch.
`;
}

/**
 * The binary is ~110 MB and build.ts runs before every test run: a hard link costs nothing. A
 * copy only where a link cannot be made (another filesystem, or one without links).
 */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * Writes dist/npm/<name>/ for `binary` (already built) and returns its directory. `sha256` is the
 * binary's, computed once by the caller for SHA256SUMS too. `npmDir` must not hold the package
 * already (build.ts empties it first), so a link never lands on a stale inode.
 */
export function writePlatformPackage(opts: {
  npmDir: string;
  target: PlatformTarget;
  binary: string;
  sha256: string;
  root: RootPackage;
  rootDir: string;
}): string {
  const { npmDir, target, binary, sha256, root, rootDir } = opts;
  const name = platformPackageName(target);
  const dir = join(npmDir, name);
  const bin = join(dir, PLATFORM_BINARY_PATH);
  mkdirSync(dirname(bin), { recursive: true });
  linkOrCopy(binary, bin);
  chmodSync(bin, 0o755);
  const manifest = {
    name,
    version: root.version,
    description: `The daemonctl binary for ${describeTarget(target)}; install daemonctl instead`,
    license: root.license ?? "MIT",
    ...(root.repository !== undefined ? { repository: root.repository } : {}),
    ...(root.homepage !== undefined ? { homepage: root.homepage } : {}),
    ...(root.bugs !== undefined ? { bugs: root.bugs } : {}),
    // verify.js is CommonJS whatever a parent directory's package.json says.
    type: "commonjs",
    ...platformFields(target),
    files: [PLATFORM_BINARY_PATH, "verify.js"],
    // Yarn PnP would otherwise keep the binary inside a zip archive, where it cannot be executed.
    preferUnplugged: true,
    scripts: { postinstall: "node verify.js" },
    [PLATFORM_BINARY_SHA256_FIELD]: sha256,
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  copyFileSync(join(rootDir, "scripts/platform-package/verify.js"), join(dir, "verify.js"));
  copyFileSync(join(rootDir, "LICENSE"), join(dir, "LICENSE"));
  writeFileSync(join(dir, "README.md"), readme(name, target));
  return dir;
}

