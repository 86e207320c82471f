#!/usr/bin/env bun
/**
 * Builds daemonctl with `bun build --compile`.
 *
 *   bun build.ts                          dist/daemonctl for this machine
 *   bun build.ts --target linux-x64,darwin-arm64,linux-x64-musl,…
 *                                         dist/daemonctl-<os>-<arch>[-musl] per target
 *   bun build.ts --target all             every target (src/lib/platform-package.ts)
 *   always                                dist/SHA256SUMS for what was built, and
 *                                         dist/npm/daemonctl-<target>/ per binary: the npm
 *                                         package that carries it (the host build's named
 *                                         after this machine's target)
 *
 * Flags: `--minify --bytecode --format=esm` (bytecode alone crashes at start: consola uses
 * import.meta), and `--splitting` so each command's modules load only when used: `status` must
 * start in about twice the time of a hello world (bench/startup.ts).
 * Cross targets make Bun download that platform's runtime; without network they fail, and this
 * script says so. Releases: docs/releasing.md.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { PLATFORM_TARGETS, isMuslBinary, targetFor, type PlatformTarget } from "./src/lib/platform-package.ts";
import { writePlatformPackage, type RootPackage } from "./scripts/platform-package/write.ts";

const TARGETS = PLATFORM_TARGETS;
const root = import.meta.dir;
const dist = join(root, "dist");
const npmDir = join(dist, "npm");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as RootPackage;

function gitCommit(): string {
  const r = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).stdout.trim();
  return r.stdout.trim() + (dirty ? "-dirty" : "");
}

function parseTargets(argv: string[]): PlatformTarget[] | null {
  const i = argv.findIndex((a) => a === "--target" || a.startsWith("--target="));
  if (i < 0) return null;
  const value = argv[i]!.includes("=") ? argv[i]!.slice("--target=".length) : argv[i + 1];
  if (!value) fail("--target needs a comma-separated list, e.g. --target linux-x64,darwin-arm64");
  if (value === "all") return [...TARGETS];
  const list = value.split(",").map((t) => t.trim()).filter(Boolean);
  for (const t of list) if (!(TARGETS as readonly string[]).includes(t)) fail(`unknown target "${t}"; known: ${TARGETS.join(", ")} (or all)`);
  return list as PlatformTarget[];
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

const extraFlags = (process.env.DAEMONCTL_BUILD_FLAGS ?? "").split(" ").filter(Boolean);

function compile(outfile: string, target: string | null, commit: string): void {
  const args = [
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--splitting",
    // A standalone Bun binary would otherwise load ./.env and ./bunfig.toml from whatever
    // directory it runs in, and pass that environment on to every daemon it starts.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    // A smaller heap, collected more often: a supervisor's idle RSS drops to the 50 MiB budget
    // (bench/supervise.ts) with no measurable cost to start-up or prefixing throughput.
    "--compile-exec-argv=--smol",
    ...extraFlags,
    `--define=__DAEMONCTL_VERSION__=${JSON.stringify(pkg.version)}`,
    `--define=__DAEMONCTL_COMMIT__=${JSON.stringify(commit)}`,
    ...(target ? [`--target=bun-${target}`] : []),
    join(root, "src/main.ts"),
    "--outfile",
    outfile,
  ];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  if (r.status !== 0 || !existsSync(outfile)) {
    const output = `${r.stdout}\n${r.stderr}`.trim();
    const offline = /fetch|download|network|ENOTFOUND|ECONNREFUSED|Unable to connect/i.test(output);
    fail(
      `compiling ${basename(outfile)}${target ? ` for ${target}` : ""} failed` +
        (target && offline ? ": Bun must download that platform's runtime and could not reach the network (build the host target, or run with network access)" : "") +
        `\n${output}`,
    );
  }
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

// The status fast path uses validators generated from the zod schemas; never ship stale ones.
const check = spawnSync(process.execPath, [join(root, "scripts/gen-validators.ts"), "--check"], { cwd: root, encoding: "utf8" });
if (check.status !== 0) fail(`${check.stderr.trim()}\n(run \`npm run generate\` after changing a schema in src/schema)`);

const commit = gitCommit();
const targets = parseTargets(process.argv.slice(2));
mkdirSync(dist, { recursive: true });
const built: Array<{ file: string; target: PlatformTarget | null }> = [];
if (targets === null) {
  const out = join(dist, "daemonctl");
  compile(out, null, commit);
  built.push({ file: out, target: targetFor(process.platform, process.arch, process.platform === "linux" && isMuslBinary(out)) });
} else {
  for (const t of targets) {
    const out = join(dist, `daemonctl-${t}`);
    compile(out, t, commit);
    built.push({ file: out, target: t });
  }
}
const hashes = built.map(({ file }) => sha256(file));
writeFileSync(join(dist, "SHA256SUMS"), built.map(({ file }, i) => `${hashes[i]}  ${basename(file)}\n`).join(""));

// dist/npm holds the packages of this build only, like SHA256SUMS: nothing stale gets published.
rmSync(npmDir, { recursive: true, force: true });
const packages: string[] = [];
for (const [i, { file, target }] of built.entries()) {
  if (target === null) {
    console.error(`build: no npm package for ${basename(file)}: ${process.platform}-${process.arch} is not a release target (${TARGETS.join(", ")})`);
    continue;
  }
  packages.push(writePlatformPackage({ npmDir, target, binary: file, sha256: hashes[i]!, root: pkg, rootDir: root }));
}
console.error(`build: ${built.map(({ file }) => basename(file)).join(", ")} (daemonctl ${pkg.version}, ${commit}) and SHA256SUMS in dist/`);
if (packages.length > 0) console.error(`build: npm packages in ${relative(root, npmDir)}/: ${packages.map((p) => basename(p)).join(", ")}`);

// The library package (dist/npm/daemonctl) that lists those as optional dependencies.
const lib = spawnSync(process.execPath, [join(root, "scripts/build-lib.ts")], { cwd: root, encoding: "utf8" });
if (lib.status !== 0) fail(`the library package did not build:\n${lib.stderr.trim()}`);
console.error(lib.stderr.trim());
