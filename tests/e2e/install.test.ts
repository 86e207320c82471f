/**
 * install.sh against a release folder served on 127.0.0.1, under sh, dash, bash and busybox sh:
 * the right binary installed and runnable; checksum, network and platform failures exit
 * non-zero with a reason and leave the install directory untouched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, ROOT, runProcess } from "../helpers/harness.ts";

const INSTALL = join(ROOT, "install.sh");
const arch = process.arch === "arm64" ? "arm64" : "x64";
const musl = readdirSync("/lib").some((f) => f.startsWith("ld-musl-"));
const ASSET = `daemonctl-linux-${arch}${musl ? "-musl" : ""}`;

let dir: string;
let release: string;
let server: ReturnType<typeof Bun.serve>;
let base: string;
/** The SHA256SUMS text served; tests may swap it. */
let sums: string;

beforeAll(() => {
  dir = mkdtempSync("/tmp/dct-install-");
  release = join(dir, "release");
  mkdirSync(release);
  copyFileSync(BIN, join(release, ASSET));
  sums = `${createHash("sha256").update(readFileSync(join(release, ASSET))).digest("hex")}  ${ASSET}\n`;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const name = new URL(req.url).pathname.split("/").pop()!;
      if (name === "SHA256SUMS") return new Response(sums);
      const file = join(release, name);
      return existsSync(file) ? new Response(Bun.file(file)) : new Response("not found", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}/v1`;
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

function install(shell: string[], env: Record<string, string>) {
  const tmp = mkdtempSync(join(dir, "tmp-"));
  return runProcess(shell[0]!, [...shell.slice(1), INSTALL], {
    env: { PATH: process.env.PATH!, HOME: dir, TMPDIR: tmp, ...env },
    timeoutMs: 60_000,
  }).then((r) => ({ ...r, leftovers: readdirSync(tmp) }));
}

const shells: Array<[string, string[]]> = [
  ["sh", ["sh"]],
  ["dash", ["dash"]],
  ["bash", ["bash"]],
  ["busybox sh", ["busybox", "sh"]],
];

describe.each(shells)("under %s", (label, shell) => {
  test("installs the matching binary, runnable, with a PATH hint", async () => {
    const have = await runProcess("sh", ["-c", `command -v ${shell[0]}`], { env: process.env as Record<string, string> });
    if (have.code !== 0) return console.warn(`SKIP install.sh under ${label}: ${shell[0]} is not installed`);
    const target = join(dir, `bin-${label.replace(" ", "-")}`);
    const r = await install(shell, { DAEMONCTL_DOWNLOAD_URL: base, DAEMONCTL_INSTALL_DIR: target });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("installed daemonctl") });
    expect(r.stderr).toContain("is not on your PATH");
    const v = await runProcess(join(target, "daemonctl"), ["--version"], { env: process.env as Record<string, string> });
    expect(v.stdout).toMatch(/^daemonctl \d+\.\d+\.\d+/);
    expect(readdirSync(target)).toEqual(["daemonctl"]);
    expect(r.leftovers).toEqual([]);
  }, 60_000);
});

test("a wrong checksum: non-zero, the message names the checksum, the install dir is unchanged", async () => {
  const target = join(dir, "bin-checksum");
  mkdirSync(target);
  writeFileSync(join(target, "daemonctl"), "previous version\n");
  const good = sums;
  sums = `${"0".repeat(64)}  ${ASSET}\n`;
  try {
    const r = await install(["sh"], { DAEMONCTL_DOWNLOAD_URL: base, DAEMONCTL_INSTALL_DIR: target });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("checksum mismatch");
    expect(r.stderr).toContain("0".repeat(64));
    expect(readdirSync(target)).toEqual(["daemonctl"]);
    expect(readFileSync(join(target, "daemonctl"), "utf8")).toBe("previous version\n");
    expect(r.leftovers).toEqual([]);
  } finally {
    sums = good;
  }
});

test("an unreachable URL: non-zero within seconds, nothing installed", async () => {
  const target = join(dir, "bin-unreachable");
  const r = await install(["sh"], { DAEMONCTL_DOWNLOAD_URL: "http://127.0.0.1:1/nothing", DAEMONCTL_INSTALL_DIR: target });
  expect(r.code).not.toBe(0);
  expect(r.ms).toBeLessThan(15_000);
  expect(r.stderr).toContain("could not download");
  expect(existsSync(target)).toBe(false);
});

test("an unsupported architecture: a clear message, nothing downloaded or installed", async () => {
  const fake = join(dir, "fakebin");
  mkdirSync(fake, { recursive: true });
  writeFileSync(join(fake, "uname"), '#!/bin/sh\ncase "$1" in -m) echo riscv64 ;; *) echo Linux ;; esac\n');
  chmodSync(join(fake, "uname"), 0o755);
  const target = join(dir, "bin-riscv");
  const r = await install(["sh"], { DAEMONCTL_DOWNLOAD_URL: base, DAEMONCTL_INSTALL_DIR: target, PATH: `${fake}:${process.env.PATH}` });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("unsupported architecture: riscv64");
  expect(existsSync(target)).toBe(false);
});

test("wget is used when curl is absent", async () => {
  const tools = join(dir, "nocurl");
  mkdirSync(tools, { recursive: true });
  for (const t of ["sh", "uname", "mktemp", "rm", "grep", "cut", "head", "chmod", "mkdir", "cp", "mv", "id", "wget", "sha256sum", "rmdir"]) {
    const found = await runProcess("sh", ["-c", `command -v ${t}`], { env: process.env as Record<string, string> });
    if (found.code === 0 && !existsSync(join(tools, t))) symlinkSync(found.stdout.trim(), join(tools, t));
  }
  if (!existsSync(join(tools, "wget"))) return console.warn("SKIP wget path: wget is not installed");
  const target = join(dir, "bin-wget");
  const r = await install([join(tools, "sh")], { DAEMONCTL_DOWNLOAD_URL: base, DAEMONCTL_INSTALL_DIR: target, PATH: tools });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("installed daemonctl") });
});

test("install.sh is shellcheck-clean", async () => {
  const have = await runProcess("sh", ["-c", "command -v shellcheck"], { env: process.env as Record<string, string> });
  if (have.code !== 0) return console.warn("SKIP shellcheck: not installed");
  const r = await runProcess("shellcheck", ["-s", "sh", INSTALL], { env: process.env as Record<string, string> });
  expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: "" });
});

test.each([
  ["latest", "/releases/latest/download"],
  ["", "/releases/latest/download"],
  ["0.1.0", "/releases/download/v0.1.0"],
  ["v0.1.0", "/releases/download/v0.1.0"],
])("DAEMONCTL_VERSION=%p downloads from %s (a Dockerfile's ARG DAEMONCTL_VERSION=latest works)", async (version, path) => {
  const target = join(dir, `bin-version-${version || "unset"}`);
  const env: Record<string, string> = { DAEMONCTL_REPO_URL: `http://127.0.0.1:${server.port}/repo`, DAEMONCTL_INSTALL_DIR: target };
  if (version) env.DAEMONCTL_VERSION = version;
  const r = await install(["sh"], env);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`/repo${path}`) });
  expect(existsSync(join(target, "daemonctl"))).toBe(true);
}, 60_000);
