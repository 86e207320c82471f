/**
 * Config validation, directory safety and file permissions (docs/configuration.md) — as root and
 * as nobody.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, statSync, symlinkSync, writeFileSync, chmodSync, chownSync } from "node:fs";
import { NOBODY, isRoot, json, sandboxes, setprivProblem } from "../helpers/harness.ts";

const sandbox = sandboxes();

test("invalid config: exit 2 naming the file, the path and what was expected, for every bad field", async () => {
  const box = sandbox();
  const cfg = box.path("daemonctl.json");
  writeFileSync(
    cfg,
    JSON.stringify({
      grace: -1,
      socketMode: 660,
      daemons: {
        web: { command: "python3 -m http.server", restart: "sometimes", stopTimeout: "8 seconds", ready: "http:x", bogus: 1 },
        "bad name!": { command: ["x"] },
        ok: { command: ["sleep", "1"], stopSignal: "SIGNOPE" },
      },
    }),
  );
  const r = await box.run(["start", "ok", "--config", cfg]);
  expect(r.code).toBe(2);
  for (const where of ["grace", "socketMode", "daemons.web.command", "daemons.web.restart", "daemons.web.stopTimeout", "daemons.web.ready", "daemons.web.bogus", "daemons.bad name!", "daemons.ok.stopSignal"]) {
    expect(r.stderr).toContain(`${cfg}: ${where}:`);
  }
  expect(r.stderr).toContain("expected array");
  expect(r.stderr).toContain('"no"|"on-failure"|"always"');
  expect(r.stderr).toMatch(/invalid config \(\d+ problems\)/);
});

test("config that is not JSON, or missing when named explicitly: exit 2", async () => {
  const box = sandbox();
  writeFileSync(box.path("bad.json"), "{ nope");
  const r1 = await box.run(["start", "x", "--config", box.path("bad.json"), "--", "true"]);
  expect(r1.code).toBe(2);
  expect(r1.stderr).toContain("not valid JSON");
  const r2 = await box.run(["start", "x", "--config", box.path("missing.json"), "--", "true"]);
  expect(r2.code).toBe(2);
  expect(r2.stderr).toContain("does not exist");
});

test("unknown flags and bad values are usage errors (exit 2)", async () => {
  const box = sandbox();
  expect((await box.run(["start", "web", "--restrat", "always", "--", "true"])).code).toBe(2);
  expect((await box.run(["start", "web", "--restart", "sometimes", "--", "true"])).code).toBe(2);
  expect((await box.run(["start", "web", "--wait", "soon", "--", "true"])).code).toBe(2);
  expect((await box.run(["start", "../etc", "--", "true"])).code).toBe(2);
  expect((await box.run(["frobnicate"])).code).toBe(2);
});

test("schema config prints a JSON Schema that knows every top-level key", async () => {
  const box = sandbox();
  const r = await box.run(["schema", "config"]);
  expect(r.code).toBe(0);
  const s = json(r);
  expect(Object.keys(s.properties).sort()).toEqual(["$schema", "daemons", "grace", "runtimeDir", "socketGroup", "socketMode", "stateDir"]);
  for (const name of ["status", "metadata", "planned-stop", "state", "event"]) expect((await box.run(["schema", name])).code).toBe(0);
});

const privilegeModes: Array<[string, boolean]> = [["as root", false], ["unprivileged (uid 65534)", true]];

describe.each(privilegeModes)("permissions %s", (_label, unprivileged) => {
  const maybe = async () => {
    if (!unprivileged) return null;
    return setprivProblem();
  };

  test("directories 0700, files and socket 0600", async () => {
    const skip = await maybe();
    if (skip) return console.warn(`SKIP unprivileged permission test: ${skip}`);
    const box = sandbox({ unprivileged });
    expect((await box.run(["start", "web", "--", "sleep", "1000"], { unprivileged })).code).toBe(0);
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(box.runtimeDir)).toBe(0o700);
    expect(mode(box.stateDir)).toBe(0o700);
    expect(mode(`${box.runtimeDir}/web.sock`)).toBe(0o600);
    expect(statSync(`${box.runtimeDir}/web.sock`).isSocket()).toBe(true);
    expect(mode(`${box.runtimeDir}/web.json`)).toBe(0o600);
    expect(mode(`${box.stateDir}/web.state.json`)).toBe(0o600);
    expect(mode(`${box.stateDir}/logs/web.log`)).toBe(0o600);
    if (unprivileged && isRoot) expect(statSync(`${box.runtimeDir}/web.sock`).uid).toBe(NOBODY);
    expect((await box.run(["status", "web"], { unprivileged })).code).toBe(0);
    expect((await box.run(["stop", "web"], { unprivileged })).code).toBe(0);
  });

  test("a runtime dir writable by others, or a symlink, is refused with a clear error", async () => {
    const skip = await maybe();
    if (skip) return console.warn(`SKIP unprivileged permission test: ${skip}`);
    const box = sandbox({ unprivileged });
    mkdirSync(box.runtimeDir);
    if (unprivileged && isRoot) chownSync(box.runtimeDir, NOBODY, NOBODY);
    chmodSync(box.runtimeDir, 0o777);
    const r = await box.run(["start", "web", "--", "sleep", "1000"], { unprivileged });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("writable by others");
    expect(r.stderr).toContain("DAEMONCTL_RUNTIME_DIR");
    // Reading is refused too: a socket planted there could answer anything.
    const st = await box.run(["status", "web", "--json"], { unprivileged });
    expect(st.code).toBe(4);
    expect(json(st)).toMatchObject({ state: "unknown", error: { code: "unsafe-world-writable" } });
    expect((await box.run(["stop", "web"], { unprivileged })).code).toBe(1);

    const link = box.path("link");
    mkdirSync(box.path("real"), { mode: 0o700 });
    if (unprivileged && isRoot) chownSync(box.path("real"), NOBODY, NOBODY);
    symlinkSync(box.path("real"), link);
    const r2 = await box.run(["start", "web", "--", "sleep", "1000"], { unprivileged, env: { DAEMONCTL_RUNTIME_DIR: link } });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("symlink");
  });

  test("a socket path over the platform limit is a clear error naming DAEMONCTL_RUNTIME_DIR", async () => {
    const skip = await maybe();
    if (skip) return console.warn(`SKIP unprivileged permission test: ${skip}`);
    const box = sandbox({ unprivileged });
    const deep = box.path("x".repeat(60), "y".repeat(40));
    const r = await box.run(["start", "web", "--", "sleep", "1000"], { unprivileged, env: { DAEMONCTL_RUNTIME_DIR: deep } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DAEMONCTL_RUNTIME_DIR");
    expect(r.stderr).toContain("longer than");
  });
});

test("an unprivileged user cannot see into root's runtime dir: status says unknown (exit 4)", async () => {
  const skip = await setprivProblem();
  if (skip) return console.warn(`SKIP: ${skip}`);
  const box = sandbox();
  expect((await box.run(["start", "web", "--", "sleep", "1000"])).code).toBe(0);
  const r = await box.run(["status", "web", "--json"], { unprivileged: true });
  expect(r.code).toBe(4);
  expect(json(r).state).toBe("unknown");
  expect(json(r).error.code).toBe("permission-denied");
});
