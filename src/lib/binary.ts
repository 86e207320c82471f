/**
 * Finding the daemonctl binary that runs hosts and takes the kernel locks (docs/library.md#how-the-binary-is-found):
 *
 * 1. `DAEMONCTL_BIN`, when set (a path);
 * 2. the platform package npm installed as an optional dependency (`daemonctl-linux-x64`, …),
 *    whose version must be this library's;
 * 3. `daemonctl` on `PATH`.
 *
 * When none works the error names all three and why each failed.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION } from "../version.ts";
import { BinaryNotFoundError } from "./errors.ts";
import { isMuslBinary, PLATFORM_BINARY_PATH, platformPackageName, targetFor, type PlatformTarget } from "./platform-package.ts";

/** Found binaries, by the environment that decided them. */
const found = new Map<string, string>();

/**
 * The binary to run, found once per process and environment (an explicit `binary` option is not
 * cached). A `DAEMONCTL_BIN` that is set is the answer or the error: an override that silently
 * fell back to another binary would run a version nobody asked for.
 */
export function findBinary(explicit?: string, env: Record<string, string | undefined> = process.env): string {
  if (explicit) return checkExplicit(explicit, "the binary option");
  const fromEnv = env.DAEMONCTL_BIN;
  if (fromEnv) return checkExplicit(fromEnv, "DAEMONCTL_BIN=");
  const key = env.PATH ?? "";
  const cached = found.get(key);
  if (cached) return cached;
  const tried: string[] = ["DAEMONCTL_BIN: not set"];
  const pkg = fromPlatformPackage();
  if ("path" in pkg) return remember(key, pkg.path);
  tried.push(pkg.problem);
  const onPath = fromPath(env.PATH);
  if ("path" in onPath) return remember(key, onPath.path);
  tried.push(onPath.problem);
  throw new BinaryNotFoundError(
    `no daemonctl binary found; tried, in order:\n${tried.map((t) => `  - ${t}`).join("\n")}\n` +
      `Install the package with its optional dependencies (npm install daemonctl, without --omit=optional), ` +
      `or set DAEMONCTL_BIN to a daemonctl binary, or put daemonctl on PATH (curl -fsSL …/install.sh | sh).`,
    tried,
  );
}

function remember(key: string, path: string): string {
  found.set(key, path);
  return path;
}

function checkExplicit(path: string, what: string): string {
  const problem = executableProblem(path);
  const where = what.endsWith("=") ? `${what}${path}` : `${what} ${path}`;
  if (problem) throw new BinaryNotFoundError(`${where}: ${problem} (it is used as given, with no fallback: fix it or unset it)`, [`${where}: ${problem}`]);
  return path;
}

function executableProblem(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return "not a file";
    accessSync(path, constants.X_OK);
    return null;
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code === "ENOENT" ? "no such file" : code === "EACCES" ? "not executable" : String((e as Error).message);
  }
}

/**
 * Both libc flavours are tried: npm installed at most one of them, the one that runs here. The
 * runtime running us says which comes first (a musl node or bun is an Alpine system's own).
 */
function candidateTargets(): PlatformTarget[] {
  const musl = process.platform === "linux" && runtimeIsMusl();
  return [targetFor(process.platform, process.arch, musl), targetFor(process.platform, process.arch, !musl)].filter(
    (t, i, all): t is PlatformTarget => t !== null && all.indexOf(t) === i,
  );
}

function runtimeIsMusl(): boolean {
  try {
    return isMuslBinary(process.execPath);
  } catch {
    return existsSync("/lib/ld-musl-x86_64.so.1") || existsSync("/lib/ld-musl-aarch64.so.1");
  }
}

function fromPlatformPackage(): { path: string } | { problem: string } {
  const targets = candidateTargets();
  if (!targets.length) return { problem: `platform package: none is built for ${process.platform}-${process.arch}` };
  const problems: string[] = [];
  for (const target of targets) {
    const name = platformPackageName(target);
    const dir = packageDir(name);
    if (!dir) {
      problems.push(`${name} is not installed`);
      continue;
    }
    const version = packageVersion(dir);
    if (version !== VERSION) {
      problems.push(`${name} at ${dir} is version ${version ?? "?"}, this library is ${VERSION} (reinstall so both match)`);
      continue;
    }
    const bin = join(dir, PLATFORM_BINARY_PATH);
    const problem = executableProblem(bin);
    if (!problem) return { path: bin };
    problems.push(`${bin}: ${problem}`);
  }
  return { problem: `platform package: ${problems.join("; ")}` };
}

/** Node's resolution first (pnpm and workspaces link packages elsewhere), then node_modules upwards. */
function packageDir(name: string): string | null {
  const here = moduleDir();
  try {
    return dirname(createRequire(join(here, "noop.js")).resolve(`${name}/package.json`));
  } catch {
    // Deno without a package.json entry for it, or a runtime whose require cannot see it.
  }
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

function moduleDir(): string {
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return process.cwd();
  }
}

function packageVersion(dir: string): string | null {
  try {
    const v = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: unknown }).version;
    return typeof v === "string" ? v : null;
  } catch {
    return null;
  }
}

function fromPath(pathEnv: string | undefined): { path: string } | { problem: string } {
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "daemonctl");
    if (!executableProblem(candidate)) return { path: candidate };
  }
  return { problem: "PATH: no executable daemonctl in any of its directories" };
}
