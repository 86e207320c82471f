/**
 * Containers for end-to-end tests: `dist/daemonctl` under a real OCI runtime (Debian's `runc`),
 * without images or a registry.
 *
 * Each bundle is a temp dir with a config.json written here and a rootfs made of read-only bind
 * mounts of the host's /usr (and /bin, /sbin, /lib, /lib64 — symlinks into /usr, as on the host,
 * when the host has them as symlinks), a generated /etc (passwd/group with root, nobody and an
 * `app` group, plus the test's daemonctl.json), the built binary at /usr/local/bin/daemonctl,
 * tmpfs /run and /tmp, and a host dir mounted read-write at /var/lib/daemonctl (the state volume).
 *
 * runc settings needed in this sandbox (a Firecracker VM, root with all capabilities, cgroup v1
 * hierarchies plus an empty cgroup2 at /sys/fs/cgroup/unified):
 * - None beyond the defaults of `runc spec`: pivot_root, every namespace of the template (pid,
 *   ipc, uts, mount, network) and cgroupfs all work, so there is no `--no-pivot`,
 *   `--systemd-cgroup` or dropped namespace. What the helper does choose:
 * - `runc --root DIR` in a temp dir per bundle, so tests never see or touch anyone else's
 *   containers and a crashed run leaves nothing in /run/runc.
 * - `linux.cgroupsPath` "/daemonctl-e2e-<id>" (the ids are unique per test process), so the
 *   cgroups runc makes are recognisable; `runc delete -f` removes them.
 * - Docker's default capability set for root, and no `noNewPrivileges`, so PID 1 and a
 *   `docker exec` as root behave as under Docker. Every exec is a `runc exec --process FILE`
 *   (user, additional gids, env and capabilities in one place); a non-root exec user gets only
 *   the bounding set, as under Docker (checked: CapEff 0 for uid 65534), so file and socket
 *   permissions apply to it.
 * - runc gives a tmpfs the mode of the directory it is mounted on (its `mode=` option loses):
 *   the rootfs's /tmp is made 1777 so /tmp in the container is 1777.
 * - /usr/local is a read-only bind of a bundle dir holding an empty bin/daemonctl, and the
 *   binary is bound onto that file: a mount point under the host's /usr bind would make runc
 *   create it on the host (or fail, /usr being read-only).
 *
 * `runc run` runs in the foreground as the test's child with piped stdio (terminal: false), so
 * its exit status is the container's: the init's code, or 128+N when signal N killed it.
 */
import { afterEach } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isRoot, Proc, runProcess, waitFor, type RunResult } from "./harness.ts";

const BUILT = resolve(import.meta.dir, "../../dist/daemonctl");
/** Where the binary appears inside every container. */
export const CONTAINER_BIN = "/usr/local/bin/daemonctl";
export const APP_GID = 1500;
export const NOBODY = 65534;
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker's default capabilities (moby oci/caps/defaults.go). */
const DOCKER_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

function capabilities(uid: number) {
  if (uid === 0) return { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS };
  return { bounding: DOCKER_CAPS, effective: [], permitted: [] };
}

/** Debian puts runc in /usr/sbin, which a non-login PATH may lack. */
const RUNC: string | null = (() => {
  const r = spawnSync("sh", ["-c", "command -v runc"], { encoding: "utf8" });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  return ["/usr/sbin/runc", "/usr/bin/runc", "/sbin/runc"].find((p) => existsSync(p)) ?? null;
})();

let probed: Promise<string | null> | undefined;

/**
 * Why runc cannot run containers here, or null. Probed once: a trivial container built like the
 * tests' must run `true` and exit 0.
 */
export function runcProblem(): Promise<string | null> {
  probed ??= (async () => {
    if (!isRoot) return "runc needs root here (rootless runc is not set up)";
    if (!RUNC) return "runc is not installed (apt-get install runc; .ci/run installs it)";
    if (!existsSync(BUILT)) return `${BUILT} is missing: run \`bun build.ts\``;
    const b = new Bundle({ args: ["true"] });
    try {
      const r = await b.run().waitExit(15_000);
      if (r.code === 0) return null;
      return `runc run of a trivial container failed (exit ${r.code}): ${b.proc?.stderr.trim()}`;
    } catch (e) {
      return `runc run of a trivial container failed: ${(e as Error).message}`;
    } finally {
      await b.cleanup();
    }
  })();
  return probed;
}

let counter = 0;

/** A factory of bundles for one test file; each test's containers are deleted after it. */
export function bundles(): (opts: BundleOptions) => Bundle {
  let made: Bundle[] = [];
  afterEach(async () => {
    await Promise.all(made.map((b) => b.cleanup()));
    made = [];
  });
  return (opts) => {
    const b = new Bundle(opts);
    made.push(b);
    return b;
  };
}

export interface BundleOptions {
  /** process.args of the container's init. */
  args: string[];
  /** Added to HOME=/root and PATH. */
  env?: Record<string, string>;
  /** Written as /etc/daemonctl.json. */
  config?: unknown;
  /** Host dir mounted at /var/lib/daemonctl; a fresh one (removed at cleanup) when absent. */
  volume?: string;
  /** root.readonly: only /run, /tmp and the volume are writable. */
  readonlyRoot?: boolean;
}

export interface ExecOptions {
  /** uid:gid of the exec user (root when absent). */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** One OCI bundle in a temp dir, and at most one container run from it. */
export class Bundle {
  readonly id = `dct-${process.pid}-${++counter}`;
  readonly dir: string;
  readonly volume: string;
  /** The foreground `runc run`, once started. */
  proc: Proc | undefined;
  private readonly ownsVolume: boolean;
  private readonly stateRoot: string;
  private readonly children = new Set<ChildProcess>();

  constructor(readonly opts: BundleOptions) {
    this.dir = mkdtempSync("/tmp/dct-runc-");
    chmodSync(this.dir, 0o755);
    this.stateRoot = join(this.dir, "runc-root");
    mkdirSync(this.stateRoot);
    this.ownsVolume = opts.volume === undefined;
    this.volume = opts.volume ?? makeVolume();
    this.makeRootfs();
    this.makeEtc();
    this.makeUsrLocal();
    writeFileSync(join(this.dir, "config.json"), JSON.stringify(this.spec(), null, 2));
  }

  private makeRootfs(): void {
    const rootfs = join(this.dir, "rootfs");
    for (const d of ["usr", "etc", "proc", "dev", "sys", "run", "tmp", "root", "var/lib/daemonctl"]) mkdirSync(join(rootfs, d), { recursive: true });
    // runc gives a tmpfs the mode of the directory it covers, whatever its mode= option says.
    chmodSync(join(rootfs, "tmp"), 0o1777);
    // Merged-/usr hosts have /bin -> usr/bin: the same symlink inside keeps #! paths working.
    for (const d of ["bin", "sbin", "lib", "lib64"]) {
      const host = `/${d}`;
      if (!existsSync(host)) continue;
      if (lstatSync(host).isSymbolicLink()) symlinkSync(readlinkSync(host), join(rootfs, d));
      else mkdirSync(join(rootfs, d));
    }
  }

  private makeEtc(): void {
    const etc = join(this.dir, "etc");
    mkdirSync(etc);
    writeFileSync(join(etc, "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    writeFileSync(join(etc, "group"), `root:x:0:\napp:x:${APP_GID}:\nnogroup:x:65534:\n`);
    if (this.opts.config !== undefined) writeFileSync(join(etc, "daemonctl.json"), JSON.stringify(this.opts.config, null, 2));
    for (const f of ["passwd", "group", "daemonctl.json"]) if (existsSync(join(etc, f))) chmodSync(join(etc, f), 0o644);
  }

  private makeUsrLocal(): void {
    const bin = join(this.dir, "usr-local", "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "daemonctl"), "");
  }

  private spec() {
    const ro = (source: string, destination: string) => ({ destination, type: "bind", source, options: ["rbind", "ro", "nosuid"] });
    const hostDirs = ["bin", "sbin", "lib", "lib64"].filter((d) => existsSync(`/${d}`) && !lstatSync(`/${d}`).isSymbolicLink());
    return {
      ociVersion: "1.0.2-dev",
      process: {
        terminal: false,
        user: { uid: 0, gid: 0 },
        args: this.opts.args,
        env: envList({ HOME: "/root", PATH, ...this.opts.env }),
        cwd: "/",
        capabilities: { ...capabilities(0), ambient: [] },
        noNewPrivileges: false,
      },
      root: { path: "rootfs", readonly: this.opts.readonlyRoot ?? false },
      hostname: this.id,
      mounts: [
        { destination: "/proc", type: "proc", source: "proc" },
        { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
        { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
        { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
        { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
        ro("/usr", "/usr"),
        ...hostDirs.map((d) => ro(`/${d}`, `/${d}`)),
        ro(join(this.dir, "usr-local"), "/usr/local"),
        ro(BUILT, CONTAINER_BIN),
        ro(join(this.dir, "etc"), "/etc"),
        { destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755"] },
        { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"] },
        { destination: "/var/lib/daemonctl", type: "bind", source: this.volume, options: ["rbind", "rw"] },
      ],
      linux: {
        cgroupsPath: `/daemonctl-e2e-${this.id}`,
        namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
        maskedPaths: ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
        readonlyPaths: ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
      },
    };
  }

  private runc(args: string[]): string[] {
    return ["--root", this.stateRoot, ...args];
  }

  /** `runc run` in the foreground; `proc.exited` is the container's exit. */
  run(): Proc {
    if (this.proc) throw new Error(`container ${this.id} already started`);
    const child = spawn(RUNC!, this.runc(["run", "--bundle", this.dir, this.id]), { stdio: ["ignore", "pipe", "pipe"] });
    this.children.add(child);
    this.proc = new Proc(child);
    return this.proc;
  }

  /** `runc exec` (the `docker exec` path), run to completion. */
  exec(argv: string[], o: ExecOptions = {}): Promise<RunResult> {
    const uid = o.user?.uid ?? 0;
    const process = {
      terminal: false,
      user: { uid, gid: o.user?.gid ?? 0, additionalGids: o.user?.additionalGids ?? [] },
      args: argv,
      env: envList({ HOME: "/root", PATH, ...this.opts.env, ...o.env }),
      cwd: "/",
      capabilities: capabilities(uid),
      noNewPrivileges: false,
    };
    const file = join(this.dir, `exec-${++counter}.json`);
    writeFileSync(file, JSON.stringify(process));
    return runProcess(RUNC!, this.runc(["exec", "--process", file, this.id]), { timeoutMs: o.timeoutMs ?? 15_000, env: hostEnv() }, this.children).finally(() => rmSync(file, { force: true }));
  }

  /** daemonctl inside the container. */
  daemonctl(args: string[], o: ExecOptions = {}): Promise<RunResult> {
    return this.exec([CONTAINER_BIN, ...args], o);
  }

  /** `runc kill ID SIG`: the signal goes to the container's PID 1 (docker stop's first step). */
  kill(signal: string): Promise<RunResult> {
    return runProcess(RUNC!, this.runc(["kill", this.id, signal]), { timeoutMs: 10_000, env: hostEnv() });
  }

  /** The container's PID 1 as seen from the host, once runc reports it running. */
  async initPid(timeoutMs = 10_000): Promise<number> {
    return waitFor(async () => {
      const r = await runProcess(RUNC!, this.runc(["state", this.id]), { timeoutMs: 5_000, env: hostEnv() });
      if (r.code !== 0) return null;
      const s = JSON.parse(r.stdout) as { status: string; pid: number };
      return s.status === "running" && s.pid > 0 ? s.pid : null;
    }, timeoutMs, `container ${this.id} to run`, 20);
  }

  /** Deletes the container (SIGKILL to all its processes), then the bundle and owned volume. */
  async cleanup(): Promise<void> {
    if (existsSync(join(this.stateRoot, this.id))) await runProcess(RUNC!, this.runc(["delete", "-f", this.id]), { timeoutMs: 10_000, env: hostEnv() }).catch(() => {});
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (this.proc) await this.proc.waitExit(5_000).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
    if (this.ownsVolume) rmSync(this.volume, { recursive: true, force: true });
  }
}

/**
 * A host dir to mount at /var/lib/daemonctl (the caller removes it, or a bundle that made it):
 * root-owned 0755, like a new Docker named volume.
 */
export function makeVolume(): string {
  const dir = mkdtempSync("/tmp/dct-vol-");
  chmodSync(dir, 0o755);
  return dir;
}

function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function hostEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" };
}
