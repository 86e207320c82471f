/**
 * What a release ships, checked on the real build output (`bun build.ts`, which `npm test` runs
 * first): the host's npm platform package in dist/npm, its verify.js (the postinstall) against
 * the real binary and a tampered copy, what `npm pack` puts in the tarball and that npm installs
 * it; the workflow files parse; install.sh asks for the asset names the release uploads.
 * Nothing here writes to dist/: every change happens in a copy under a temp dir.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runProcess, type RunResult } from "../helpers/harness.ts";
import { PLATFORM_BINARY_PATH, PLATFORM_BINARY_SHA256_FIELD, PLATFORM_TARGETS, platformPackageName, targetFor } from "../../src/lib/platform-package.ts";

const env = process.env as Record<string, string>;
const rootPkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
// This machine's libc as the system shows it (install.sh's rule), independent of build.ts's.
const musl = process.platform === "linux" && ["/lib", "/usr/lib"].some((d) => existsSync(d) && readdirSync(d).some((f) => f.startsWith("ld-musl-")));
const hostTarget = targetFor(process.platform, process.arch, musl);
const pkgDir = hostTarget ? join(ROOT, "dist/npm", platformPackageName(hostTarget)) : "";
const skipReason = !hostTarget ? `${process.platform}-${process.arch} is not a release target` : !existsSync(pkgDir) ? `${pkgDir} is missing: run \`bun build.ts\`` : null;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync("/tmp/dct-release-");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** A private copy of the package (the binary copied, never linked: tests change it). */
function copyPackage(name: string): string {
  const dir = join(tmp, name);
  cpSync(pkgDir, dir, { recursive: true, dereference: true });
  return dir;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 30_000): Promise<RunResult> {
  return runProcess(cmd, args, { cwd, env, timeoutMs });
}

async function have(tool: string): Promise<boolean> {
  return (await runProcess("sh", ["-c", `command -v ${tool}`], { env })).code === 0;
}

describe("the host's npm platform package (dist/npm)", () => {
  if (skipReason) {
    test("skipped", () => console.warn(`SKIP release package tests: ${skipReason}`));
    return;
  }
  const manifest = () => JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

  test("package.json: the root version, this machine's os/cpu/libc, the binary's sha256", () => {
    const m = manifest();
    const [os, cpu] = hostTarget!.split("-");
    expect(m).toMatchObject({
      name: platformPackageName(hostTarget!),
      version: rootPkg.version,
      license: "MIT",
      os: [os],
      cpu: [cpu],
      files: expect.arrayContaining([PLATFORM_BINARY_PATH, "verify.js"]),
      preferUnplugged: true,
      scripts: { postinstall: "node verify.js" },
    });
    if (os === "linux") expect(m.libc).toEqual([musl ? "musl" : "glibc"]);
    else expect(m.libc).toBeUndefined();
    const binarySha = sha256(join(pkgDir, PLATFORM_BINARY_PATH));
    expect(m[PLATFORM_BINARY_SHA256_FIELD]).toBe(binarySha);
    // The same bytes as dist/daemonctl, the file SHA256SUMS lists.
    expect(readFileSync(join(ROOT, "dist/SHA256SUMS"), "utf8")).toContain(`${binarySha}  daemonctl\n`);
    for (const f of ["README.md", "LICENSE", "verify.js"]) expect(existsSync(join(pkgDir, f))).toBe(true);
  });

  test("bin/daemonctl is executable and reports the root version", async () => {
    const bin = join(pkgDir, PLATFORM_BINARY_PATH);
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    const r = await run(bin, ["--version"], tmp);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(new RegExp(`^daemonctl ${rootPkg.version.replaceAll(".", "\\.")}\\b`)) });
  });

  test("verify.js passes on the package as built, under node, bun and deno", async () => {
    const dir = copyPackage("intact");
    for (const runtime of [["node"], [process.execPath], [join(ROOT, "node_modules/.bin/deno"), "run", "-A"]]) {
      if (!(await have(runtime[0]!))) {
        console.warn(`SKIP verify.js under ${runtime[0]}: not installed`);
        continue;
      }
      const r = await run(runtime[0]!, [...runtime.slice(1), "verify.js"], dir);
      expect({ runtime: runtime[0], code: r.code, stderr: r.stderr }).toEqual({ runtime: runtime[0], code: 0, stderr: "" });
    }
  });

  test("verify.js fails on a tampered binary, naming the package and both hashes", async () => {
    const dir = copyPackage("tampered");
    const bin = join(dir, PLATFORM_BINARY_PATH);
    appendFileSync(bin, "\0");
    const expected = manifest()[PLATFORM_BINARY_SHA256_FIELD];
    const r = await run("node", ["verify.js"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${platformPackageName(hostTarget!)}@${rootPkg.version}`);
    expect(r.stderr).toContain(`expected sha256 ${expected}`);
    expect(r.stderr).toContain(`actual ${sha256(bin)}`);
  });

  test("verify.js fails when the binary is missing", async () => {
    const dir = copyPackage("missing");
    rmSync(join(dir, PLATFORM_BINARY_PATH));
    const r = await run("node", ["verify.js"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${PLATFORM_BINARY_PATH} is missing`);
  });

  test("npm pack ships the binary (mode 755), verify.js and package.json; npm installs it and runs the check", async () => {
    if (!(await have("npm"))) return console.warn("SKIP npm pack/install of the platform package: npm is not installed");
    const packed = join(tmp, "packed");
    mkdirSync(packed);
    const p = await run("npm", ["pack", pkgDir, "--json", "--pack-destination", packed], tmp, 60_000);
    expect({ code: p.code, stderr: p.code === 0 ? "" : p.stderr }).toEqual({ code: 0, stderr: "" });
    const [info] = JSON.parse(p.stdout) as Array<{ filename: string; files: Array<{ path: string; mode: number }> }>;
    const files = Object.fromEntries(info!.files.map((f) => [f.path, f.mode]));
    expect(Object.keys(files)).toEqual(expect.arrayContaining([PLATFORM_BINARY_PATH, "verify.js", "package.json", "README.md", "LICENSE"]));
    expect(files[PLATFORM_BINARY_PATH]! & 0o777).toBe(0o755);

    const project = join(tmp, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
    const i = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(packed, info!.filename)], project, 60_000);
    expect({ code: i.code, stderr: i.code === 0 ? "" : i.stderr }).toEqual({ code: 0, stderr: "" });
    const installed = join(project, "node_modules", platformPackageName(hostTarget!), PLATFORM_BINARY_PATH);
    const v = await run(installed, ["--version"], tmp);
    expect(v.stdout).toStartWith(`daemonctl ${rootPkg.version}`);
  }, 90_000);

  test("npm install of a tampered tarball fails in the postinstall, naming both hashes", async () => {
    if (!(await have("npm"))) return console.warn("SKIP npm install of a tampered package: npm is not installed");
    // A small stand-in binary keeps the tarball (and this test) small; the manifest is the real one.
    const dir = join(tmp, "fake");
    mkdirSync(join(dir, "bin"), { recursive: true });
    for (const f of ["package.json", "verify.js", "README.md", "LICENSE"]) copyFileSync(join(pkgDir, f), join(dir, f));
    writeFileSync(join(dir, PLATFORM_BINARY_PATH), "#!/bin/sh\necho not daemonctl\n");
    chmodSync(join(dir, PLATFORM_BINARY_PATH), 0o755);
    const packed = join(tmp, "packed-fake");
    mkdirSync(packed);
    const p = await run("npm", ["pack", dir, "--json", "--pack-destination", packed], tmp);
    expect(p.code).toBe(0);
    const [info] = JSON.parse(p.stdout) as Array<{ filename: string }>;
    const project = join(tmp, "project-fake");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
    const i = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(packed, info!.filename)], project, 60_000);
    expect(i.code).not.toBe(0);
    expect(i.stderr).toContain(`expected sha256 ${manifest()[PLATFORM_BINARY_SHA256_FIELD]}`);
    expect(i.stderr).toContain(`actual ${sha256(join(dir, PLATFORM_BINARY_PATH))}`);
  }, 60_000);
});

describe("workflows", () => {
  const dir = join(ROOT, ".github/workflows");
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const parse = (Bun as { YAML?: { parse(text: string): unknown } }).YAML?.parse;

  test.each(files)("%s parses as YAML with triggers and jobs", (file) => {
    if (!parse) return console.warn(`SKIP ${file}: this Bun has no Bun.YAML.parse`);
    const doc = parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
    expect(doc).toHaveProperty("on");
    expect(Object.keys(doc.jobs as object).length).toBeGreaterThan(0);
  });

  test("release.yml: on v* tags, may write contents and mint an OIDC token, uploads what build.ts writes", () => {
    if (!parse) return console.warn("SKIP release.yml: this Bun has no Bun.YAML.parse");
    const text = readFileSync(join(dir, "release.yml"), "utf8");
    const doc = parse(text) as { on: { push: { tags: string[] } }; permissions: Record<string, string> };
    expect(doc.on.push.tags).toEqual(["v*"]);
    expect(doc.permissions).toMatchObject({ contents: "write", "id-token": "write" });
    expect(text).toContain("bun build.ts --target all");
    for (const asset of ["dist/daemonctl-*", "dist/SHA256SUMS", "install.sh"]) expect(text).toContain(asset);
    // Platform packages first: the root package's optional dependencies must exist when it lands.
    const steps = (doc as unknown as { jobs: { release: { steps: Array<{ name?: string; run?: string }> } } }).jobs.release.steps;
    const publish = steps.find((s) => s.run?.includes("npm publish"))?.run ?? "";
    expect(publish).toContain("npm publish --provenance --access public");
    expect(publish.indexOf("for dir in dist/npm/daemonctl-*/")).toBeGreaterThan(-1);
    expect(publish.indexOf("for dir in dist/npm/daemonctl-*/")).toBeLessThan(publish.indexOf("\npublish dist/npm/daemonctl\n"));
  });
});

describe("install.sh asks for the assets the release uploads (daemonctl-<target>)", () => {
  // install.sh learns the OS and CPU from uname, which a stand-in on PATH can answer; the libc
  // from the files of this machine, so only this machine's libc variant is checked.
  const cases = PLATFORM_TARGETS.filter((t) => t.startsWith("darwin-") || t.endsWith("-musl") === musl);
  const kernel: Record<string, string> = { linux: "Linux", darwin: "Darwin" };
  const machine: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

  test.each(cases)("%s", async (target) => {
    const [os, cpu] = target.split("-") as [string, string];
    const fake = join(tmp, `uname-${target}`);
    mkdirSync(fake);
    writeFileSync(join(fake, "uname"), `#!/bin/sh\ncase "$1" in -s) echo ${kernel[os]} ;; -m) echo ${machine[cpu]} ;; *) exit 1 ;; esac\n`);
    chmodSync(join(fake, "uname"), 0o755);
    // Port 9 (discard) on loopback: nothing listens, the download fails at once and nothing is installed.
    const r = await runProcess("sh", [join(ROOT, "install.sh")], {
      env: { PATH: `${fake}:${process.env.PATH}`, HOME: tmp, TMPDIR: tmp, DAEMONCTL_DOWNLOAD_URL: "http://127.0.0.1:9", DAEMONCTL_INSTALL_DIR: join(tmp, `bin-${target}`) },
      timeoutMs: 30_000,
    });
    expect(r.stderr).toContain(`downloading daemonctl-${target} from http://127.0.0.1:9`);
    expect(r.code).not.toBe(0);
    expect(existsSync(join(tmp, `bin-${target}`))).toBe(false);
  });
});
