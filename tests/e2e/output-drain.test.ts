/**
 * Nothing lost at the end: a daemon's last output reaches supervise's stdout whole, even though
 * the runtime reports the child's exit before its pipes are drained (docs/containers.md, Output).
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { sandboxes } from "../helpers/harness.ts";

const sandbox = sandboxes();

test("a daemon's output up to its exit arrives whole and in one piece per line, 3 runs", async () => {
  const box = sandbox();
  const lines = 60_000;
  const cfg = box.path("d.json");
  writeFileSync(cfg, JSON.stringify({ daemons: { gen: { restart: "no", command: ["perl", "-e", `my $l = ("x" x 84) . "\\n"; print $l for 1..${lines}; print "last words, no newline"`] } } }));
  for (let run = 0; run < 3; run++) {
    const sup = box.spawn(["supervise", "--config", cfg]);
    const end = await sup.waitExit(30_000);
    expect(end.code).toBe(0);
    const out = sup.stdout.split("\n");
    const bad = out.filter((l, i) => l !== `[gen] ${"x".repeat(84)}` && !(i === lines && l === "[gen] last words, no newline") && !(i === lines + 1 && l === ""));
    expect(bad.slice(0, 3)).toEqual([]);
    expect(out.length).toBe(lines + 2);
  }
}, 60_000);

test("while an exited daemon's output drains it does not look alive: start reports the exit", async () => {
  const box = sandbox();
  // A grandchild in its own session holds the pipe open after the daemon exits.
  const r = await box.run(["start", "g", "--restart", "no", "--", "sh", "-c", "setsid sleep 2 & echo started; exit 1"]);
  expect(r.code).toBe(1);
  const s = (await box.run(["status", "g", "--json"])).stdout;
  const doc = JSON.parse(s);
  expect(doc.state).toBe("failed");
  expect(doc.child.pid).toBeNull();
  expect(doc.child.lastExit.code).toBe(1);
});
