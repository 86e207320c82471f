#!/usr/bin/env bun
/**
 * Builds the npm package `daemonctl` (the library, docs/library.md) in dist/npm/daemonctl/:
 *
 * - lib/index.js: one ESM file for Node ≥ 20, Bun and Deno (zod stays a dependency: its
 *   types are part of the API);
 * - lib/types/: declarations from the same source;
 * - bin/daemonctl.js: the `daemonctl` command npm links, which runs the platform binary;
 * - package.json: written from the repository's (one version), with every platform package
 *   (src/lib/platform-package.ts) as an optional dependency of exactly that version.
 *
 * The repository's own package.json stays private: its `npm ci` cannot lock platform packages
 * before they are published.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PLATFORM_TARGETS, platformPackageName } from "../src/lib/platform-package.ts";

const root = join(import.meta.dir, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  description: string;
  license: string;
  repository?: unknown;
  homepage?: string;
  dependencies: Record<string, string>;
};
const out = join(root, "dist/npm/daemonctl");

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`build-lib: ${cmd} ${args.join(" ")} failed\n${r.stdout}\n${r.stderr}`);
    process.exit(1);
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "bin"), { recursive: true });
run(process.execPath, [
  "build",
  "src/lib/index.ts",
  "--target=node",
  "--format=esm",
  "--external=zod",
  `--define=__DAEMONCTL_VERSION__=${JSON.stringify(pkg.version)}`,
  `--define=__DAEMONCTL_COMMIT__=${JSON.stringify("npm")}`,
  "--outfile",
  join(out, "lib/index.js"),
]);
run(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.lib.json", "--outDir", join(out, "lib/types")]);
cpSync(join(root, "scripts/npm/daemonctl.js"), join(out, "bin/daemonctl.js"));
chmodSync(join(out, "bin/daemonctl.js"), 0o755);
for (const f of ["README.md", "LICENSE", "CHANGELOG.md"]) cpSync(join(root, f), join(out, f));
cpSync(join(root, "docs/library.md"), join(out, "LIBRARY.md"));

const types = "./lib/types/lib/index.d.ts";
const manifest = {
  name: "daemonctl",
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  ...(pkg.repository ? { repository: pkg.repository } : {}),
  ...(pkg.homepage ? { homepage: pkg.homepage } : {}),
  type: "module",
  exports: { ".": { types, import: "./lib/index.js", default: "./lib/index.js" }, "./package.json": "./package.json" },
  types,
  bin: { daemonctl: "bin/daemonctl.js" },
  files: ["lib/", "bin/", "README.md", "LIBRARY.md", "LICENSE", "CHANGELOG.md"],
  engines: { node: ">=20" },
  dependencies: { zod: pkg.dependencies.zod },
  optionalDependencies: Object.fromEntries(PLATFORM_TARGETS.map((t) => [platformPackageName(t), pkg.version])),
  keywords: ["daemon", "singleton", "supervisor", "init", "process-manager", "unix-socket"],
};
writeFileSync(join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
console.error(`build-lib: dist/npm/daemonctl (daemonctl ${pkg.version}: lib/index.js, lib/types, bin/daemonctl.js)`);
