/** RotatingLog keeps every file within maxSize and at most maxFiles old files. */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { LineSplitter, RotatingLog } from "../../src/daemon/state/logfile.ts";

test("rotation by size, splitting at newlines, dropping the oldest", () => {
  const dir = mkdtempSync("/tmp/dct-log-");
  try {
    const path = join(dir, "d.log");
    const log = new RotatingLog(path, 100, 2);
    const lines = Array.from({ length: 60 }, (_, i) => `line ${String(i).padStart(3, "0")}\n`).join(""); // 540 bytes
    log.write(lines.slice(0, 250));
    log.write(lines.slice(250));
    log.close();
    expect(readdirSync(dir).sort()).toEqual(["d.log", "d.log.1", "d.log.2"]);
    for (const f of readdirSync(dir)) {
      expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(100);
      expect(readFileSync(join(dir, f), "utf8")).toMatch(/^(line \d{3}\n)*$/);
    }
    expect(readFileSync(path, "utf8").trim().split("\n").at(-1)).toBe("line 059");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("time stamps: one per line, at its first byte, however the chunks split lines", () => {
  const dir = mkdtempSync("/tmp/dct-log-");
  try {
    const path = join(dir, "d.log");
    const log = new RotatingLog(path, 1 << 20, 2, undefined, true);
    const enc = new TextEncoder();
    log.write(enc.encode("a1\nb2"));
    log.write(enc.encode(" b3\n"));
    log.write(enc.encode(""));
    log.write(enc.encode("\n\nc"));
    log.write("4\nd5\n");
    log.close();
    const stamp = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `;
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((l) => l.replace(new RegExp(`^${stamp}`), "<t>"))).toEqual(["<t>a1", "<t>b2 b3", "<t>", "<t>", "<t>c4", "<t>d5"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("time stamps survive rotation: every file starts with a stamped line", () => {
  const dir = mkdtempSync("/tmp/dct-log-");
  try {
    const path = join(dir, "d.log");
    const log = new RotatingLog(path, 200, 3, undefined, true);
    const lines = Array.from({ length: 12 }, (_, i) => `line ${String(i).padStart(3, "0")}\n`).join("");
    log.write(lines.slice(0, 37));
    log.write(lines.slice(37));
    log.close();
    const all = ["d.log.2", "d.log.1", "d.log"].flatMap((f) => readFileSync(join(dir, f), "utf8").trim().split("\n"));
    expect(all).toHaveLength(12);
    all.forEach((l, i) => expect(l).toMatch(new RegExp(String.raw`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z line ${String(i).padStart(3, "0")}$`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("following a line with no end holds at most about 1 MiB of it", () => {
  const s = new LineSplitter();
  const chunk = new TextEncoder().encode("x".repeat(256 * 1024));
  let out = 0;
  for (let i = 0; i < 16; i++) out += s.push(chunk).reduce((n, l) => n + l.text.length, 0);
  expect(out).toBeGreaterThanOrEqual(3 * 1024 * 1024);
});
