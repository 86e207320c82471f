/**
 * Notify readiness (NOTIFY_SOCKET), fd:N readiness and the watchdog (docs/lifecycle.md), driven
 * through the compiled binary with real datagrams from perl and systemd-notify.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { NOBODY, isRoot, json, sandboxes, waitFor, type Sandbox } from "../helpers/harness.ts";

const sandbox = sandboxes();

/** A perl daemon speaking sd_notify: `send(MSG)` lines from `script`, then it sleeps. */
const NOTIFIER = `use Socket; use Time::HiRes qw(sleep);
sub n { my $p = $ENV{NOTIFY_SOCKET}; $p =~ s/^@/\\0/; socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!"; send($s, $_[0], 0, sockaddr_un($p)) or die "send: $!"; }
`;

function perlDaemon(box: Sandbox, name: string, body: string): string[] {
  const file = box.path(`${name}.pl`);
  writeFileSync(file, NOTIFIER + body + "\nsleep 1000;\n");
  return ["perl", file];
}

async function status(box: Sandbox, name: string): Promise<any> {
  const r = await box.run(["status", name, "--json"]);
  return r.stdout.trim() ? json(r) : null;
}

/** Sends one datagram to `path` from a separate process (the test's own uid). */
function sendFromHere(path: string, msg: string): void {
  const r = spawnSync("perl", ["-e", `${NOTIFIER} my $p = $ARGV[0]; $p =~ s/^@/\\0/; socket(S, PF_UNIX, SOCK_DGRAM, 0); send(S, $ARGV[1], 0, sockaddr_un($p)) or die "send: $!"`, path, msg]);
  if (r.status !== 0) throw new Error(`perl send failed: ${r.stderr}`);
}

describe("ready: notify", () => {
  test("READY=1 makes start return ready; STATUS= shows as statusText; the socket is 0600 and gone after stop", async () => {
    const box = sandbox();
    const cmd = perlDaemon(box, "web", `n("STATUS=warming up"); sleep 0.2; n("READY=1\\nSTATUS=serving 3 clients");`);
    const r = await box.run(["start", "web", "--ready", "notify", "--", ...cmd]);
    expect(r.code).toBe(0);
    const st = await status(box, "web");
    expect(st.ready).toBe(true);
    expect(st.statusText).toBe("serving 3 clients");
    const sock = `${box.runtimeDir}/web.notify`;
    expect(statSync(sock).isSocket()).toBe(true);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    const env = readFileSync(`/proc/${st.child.pid}/environ`, "utf8").split("\0");
    expect(env).toContain(`NOTIFY_SOCKET=${sock}`);
    expect((await box.run(["status", "web"])).stdout).toContain(": serving 3 clients");
    expect((await box.run(["stop", "web"])).code).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  test("not ready before READY=1 (a daemon that waits 1 s first); start waits for it", async () => {
    const box = sandbox();
    const cmd = perlDaemon(box, "slow", `sleep 1; n("READY=1");`);
    const t0 = Date.now();
    const r = await box.run(["start", "slow", "--ready", "notify", "--no-wait", "--", ...cmd]);
    expect(r.code).toBe(0);
    const early = await waitFor(async () => {
      const s = await status(box, "slow");
      return s?.child?.pid ? s : null;
    }, 5_000, "the host's status");
    if (Date.now() - t0 < 800) {
      expect(early.ready).toBe(false);
      expect(early.state).toBe("starting");
    }
    const ready = await waitFor(async () => ((await status(box, "slow"))?.ready ? Date.now() - t0 : 0), 10_000, "ready");
    expect(ready).toBeGreaterThanOrEqual(950);
  });

  test("systemd-notify --ready works as the sender", async () => {
    const box = sandbox();
    if (spawnSync("sh", ["-c", "command -v systemd-notify"]).status !== 0) {
      console.warn("SKIP systemd-notify test: systemd-notify is not installed");
      return;
    }
    // systemd 252 sends from its own short-lived pid, with NOTIFY_SOCKET alone: no --pid needed.
    const r = await box.run(["start", "sd", "--ready", "notify", "--", "sh", "-c", 'systemd-notify --ready --status="from systemd-notify" && exec sleep 1000']);
    expect(r.code).toBe(0);
    const st = await status(box, "sd");
    expect(st.ready).toBe(true);
    expect(st.statusText).toBe("from systemd-notify");
  });

  test("a daemon that exits before READY=1 is a failed start: start exits 1", async () => {
    const box = sandbox();
    const r = await box.run(["start", "quitter", "--ready", "notify", "--restart", "no", "--", "sh", "-c", "sleep 0.2; exit 0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("quitter");
    const st = await status(box, "quitter");
    expect(st?.ready ?? false).toBe(false);
  });

  test("MAINPID= of a process in the daemon's session receives `signal`", async () => {
    const box = sandbox();
    // The shell forks a worker that names itself main pid and records the signals it gets.
    const worker = `trap 'echo got-hup >> ${box.path("hup")}' HUP; perl -e '${NOTIFIER.replace(/'/g, "'\\''")} n("MAINPID=" . getppid() . "\\nREADY=1");'; while :; do sleep 0.05; done`;
    const r = await box.run(["start", "mp", "--ready", "notify", "--", "sh", "-c", `sh -c "$1" & wait`, "sh", worker]);
    expect(r.code).toBe(0);
    const st = await status(box, "mp");
    expect(st.child.mainPid).toBeGreaterThan(0);
    expect(st.child.mainPid).not.toBe(st.child.pid);
    const sig = await box.run(["signal", "mp", "HUP"]);
    expect(sig.code).toBe(0);
    await waitFor(() => existsSync(box.path("hup")), 5_000, "the main pid got SIGHUP");
  });

  test("a datagram from another uid is ignored (root sending to a daemon that runs as nobody)", async () => {
    if (!isRoot) {
      console.warn("SKIP uid check test: needs root to run a daemon as uid 65534");
      return;
    }
    // What this proves: a child of another uid gets an abstract address (it could not enter the
    // 0700 runtime directory), which anyone in the network namespace may send to; root's
    // datagram is refused by the SCM_CREDENTIALS check alone, and the daemon's own uid accepted.
    const box = sandbox();
    const script = perlDaemon(box, "u", `while (! -e "${box.path("go")}") { sleep 0.05; } n("READY=1");`);
    writeFileSync(box.path("daemonctl.json"), JSON.stringify({ daemons: { u: { command: script, user: NOBODY, ready: "notify", cwd: box.dir } } }));
    const host = box.spawn(["start", "u", "--config", box.path("daemonctl.json"), "--foreground", "--log-level", "debug"]);
    const child = await waitFor(async () => (await status(box, "u"))?.child?.pid, 10_000, "the child");
    const sock = readFileSync(`/proc/${child}/environ`, "utf8").split("\0").find((e) => e.startsWith("NOTIFY_SOCKET="))!.slice("NOTIFY_SOCKET=".length);
    expect(sock).toMatch(/^@daemonctl\/[0-9a-f-]{36}$/);
    sendFromHere(sock, "READY=1");
    await waitFor(() => host.stderr.includes("ignored a NOTIFY_SOCKET datagram from uid 0"), 5_000, "the debug line about the foreign datagram");
    expect((await status(box, "u")).ready).toBe(false);
    writeFileSync(box.path("go"), "");
    await waitFor(async () => (await status(box, "u"))?.ready === true, 10_000, "ready from the daemon's own uid");
  }, 30_000);
});

describe("ready: fd:N", () => {
  test("ready at the first newline on fd 3", async () => {
    const box = sandbox();
    const t0 = Date.now();
    const r = await box.run(["start", "fd", "--ready", "fd:3", "--", "sh", "-c", "sleep 0.3; echo >&3; exec sleep 1000"]);
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect((await status(box, "fd")).ready).toBe(true);
  });
});

describe("watchdog", () => {
  test("a daemon that stops pinging gets a watchdog event and is restarted; one that keeps pinging survives", async () => {
    const box = sandbox();
    const quiet = perlDaemon(box, "quiet", `n("READY=1"); for (1..2) { sleep 0.1; n("WATCHDOG=1"); }`);
    const steady = perlDaemon(box, "steady", `open(my $f, ">", "${box.path("steady.env")}"); print $f "$$ $ENV{WATCHDOG_PID} $ENV{WATCHDOG_USEC}\\n"; close $f; n("READY=1"); while (1) { sleep 0.1; n("WATCHDOG=1"); }`);
    expect((await box.run(["start", "quiet", "--ready", "notify", "--watchdog", "400ms", "--", ...quiet])).code).toBe(0);
    expect((await box.run(["start", "steady", "--watchdog", "400ms", "--", ...steady])).code).toBe(0);
    const first = await status(box, "steady");
    // WATCHDOG_PID is the daemon's own pid (what sd_watchdog_enabled checks), and the period is in µs.
    const [pid, wpid, usec] = ((await waitFor(() => existsSync(box.path("steady.env")) && readFileSync(box.path("steady.env"), "utf8").trim(), 5_000, "env")) as string).split(" ");
    expect(wpid).toBe(pid);
    expect(Number(pid)).toBe(first.child.pid);
    expect(usec).toBe("400000");
    await waitFor(async () => (await status(box, "quiet"))?.child.restarts >= 1, 10_000, "quiet restarted");
    const events = (await box.run(["events", "quiet", "--no-follow"])).stdout;
    const watchdog = events.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === "watchdog");
    expect(watchdog?.delayMs).toBe(400);
    // By now quiet has missed a period (>= 0.6 s after ready): steady lived through more than one.
    const later = await status(box, "steady");
    expect(later.child.pid).toBe(first.child.pid);
    expect(later.child.restarts).toBe(0);
    expect(later.state).toBe("running");
  });

  test("a command that cannot be found still fails at once as cannot-execute under a watchdog", async () => {
    const box = sandbox();
    const r = await box.run(["start", "nope", "--watchdog", "1s", "--", "no-such-command-xyz"]);
    expect(r.code).toBe(1);
    const st = await status(box, "nope");
    expect(st.error?.code).toBe("cannot-execute");
  });
});

describe("configuration errors", () => {
  test("ready fd:1 and watchdog 50ms: exit 2 naming key and value", async () => {
    const box = sandbox();
    const cfg = box.path("daemonctl.json");
    writeFileSync(cfg, JSON.stringify({ daemons: { a: { command: ["sleep", "1"], ready: "fd:1", watchdog: "50ms" } } }));
    const r = await box.run(["start", "a", "--config", cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("daemons.a.ready");
    expect(r.stderr).toContain("fd:1");
    expect(r.stderr).toContain("daemons.a.watchdog");
    expect(r.stderr).toContain("100ms");
    const flag = await box.run(["start", "b", "--watchdog", "50ms", "--", "sleep", "1"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("watchdog");
  });
});

describe("inside supervise", () => {
  test("a notify daemon of a config becomes ready on READY=1", async () => {
    const box = sandbox();
    const cmd = perlDaemon(box, "svc", `sleep 0.2; n("READY=1\\nSTATUS=up");`);
    writeFileSync(box.path("daemonctl.json"), JSON.stringify({ daemons: { svc: { command: cmd, ready: "notify" }, plain: { command: ["sleep", "1000"] } } }));
    box.spawn(["supervise"]);
    const st = await waitFor(async () => {
      const s = await status(box, "svc");
      return s?.ready ? s : null;
    }, 10_000, "svc ready");
    expect(st.statusText).toBe("up");
  });
});

describe("under abuse and at the edges", () => {
  test("a daemon flooding its notify socket does not freeze its host; stop leaves no files", async () => {
    const box = sandbox();
    const script = perlDaemon(box, "fl", `n("READY=1"); my $i = 0; while (1) { n("STATUS=x " . $i++ . "\\nWATCHDOG=1"); }`);
    expect((await box.run(["start", "fl", "--ready", "notify", "--watchdog", "2s", "--", ...script])).code).toBe(0);
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const r = await box.run(["status", "fl", "--json", "--probe-timeout", "2s"]);
      expect(json(r).state).toBe("running");
      expect(Date.now() - t0).toBeLessThan(2_000);
    }
    expect(json(await box.run(["status", "fl", "--json"])).statusText).toMatch(/^x \d+$/);
    expect((await box.run(["stop", "fl"])).code).toBe(0);
    for (const f of ["fl.sock", "fl.json", "fl.notify"]) expect(existsSync(box.path("r", f))).toBe(false);
  }, 30_000);

  test("exit 0 before READY=1 ends failed, not stopped; a missing #! interpreter fails at once behind the watchdog wrapper", async () => {
    const box = sandbox();
    const early = await box.run(["start", "early", "--ready", "notify", "--restart", "no", "--", "sh", "-c", "sleep 0.2; exit 0"]);
    expect(early.code).toBe(1);
    const st = await box.run(["status", "early", "--json"]);
    expect(json(st).state).toBe("failed");
    expect(st.code).toBe(1);

    const script = box.path("bad-interp");
    writeFileSync(script, "#!/nonexistent/interp\necho hi\n", { mode: 0o755 });
    const t0 = Date.now();
    const r = await box.run(["start", "bi", "--watchdog", "1s", "--", script]);
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(r.stderr).toContain("/nonexistent/interp");
    const bi = json(await box.run(["status", "bi", "--json"]));
    expect(bi.state).toBe("failed");
    expect(bi.error.code).toBe("cannot-execute");
  });

  test("exec checks do not get the notify socket; a very long readiness timeout is not a zero one", async () => {
    const box = sandbox();
    const seen = box.path("check-env");
    const r = await box.run(["start", "ck", "--watchdog", "10s", "--ready", `exec:env > ${seen}`, "--", "sleep", "1000"]);
    expect(r.code).toBe(0);
    const env = readFileSync(seen, "utf8");
    expect(env).not.toContain("NOTIFY_SOCKET=");
    expect(env).not.toContain("WATCHDOG_USEC=");
    const child = json(await box.run(["status", "ck", "--json"])).child.pid;
    expect(readFileSync(`/proc/${child}/environ`, "utf8")).toContain("NOTIFY_SOCKET=");

    // 700 h is past setTimeout's 24.8-day limit: it must not fire at once.
    const long = await box.run(["start", "lg", "--ready", "exec:false", "--ready-timeout", "700h", "--no-wait", "--", "sleep", "1000"]);
    expect(long.code).toBe(0);
    const pid = await waitFor(async () => json(await box.run(["status", "lg", "--json"])).child?.pid, 10_000, "lg spawned");
    await Bun.sleep(500);
    const lg = json(await box.run(["status", "lg", "--json"]));
    expect(lg.child.pid).toBe(pid);
    expect(lg.state).toBe("starting");
  });

  test("delete removes a notify socket a killed host left behind", async () => {
    const box = sandbox();
    const script = perlDaemon(box, "k", `n("READY=1");`);
    expect((await box.run(["start", "k", "--ready", "notify", "--", ...script])).code).toBe(0);
    const st = json(await box.run(["status", "k", "--json"]));
    process.kill(st.pid, "SIGKILL");
    process.kill(-st.child.pid, "SIGKILL");
    await waitFor(() => !box.processes().some((p) => p.pid === st.pid), 5_000, "host gone");
    expect(existsSync(box.path("r", "k.notify"))).toBe(true);
    expect((await box.run(["delete", "k"])).code).toBe(0);
    expect(existsSync(box.path("r", "k.notify"))).toBe(false);
  });
});
