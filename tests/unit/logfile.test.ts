/** RotatingLog keeps every file within maxSize and at most maxFiles old files. */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { RotatingLog } from "../../src/daemon/state/logfile.ts";

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
