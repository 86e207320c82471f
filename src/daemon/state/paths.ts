/**
 * Where daemonctl keeps its files (docs/configuration.md#directories, docs/how-it-works.md#files),
 * and the safety checks on those directories.
 *
 * R (runtime): sockets, metadata, locks, markers; ephemeral. S (state): run intent, definitions,
 * logs; persistent.
 */
import { DAEMON_NAME_RE } from "../../schema/units.ts";
import { nodeFs, readText, statFollow, type PathStat } from "../../platform/files.ts";
import { CliError } from "../../errors.ts";

export interface Dirs {
  runtimeDir: string;
  stateDir: string;
}

export interface DirOverrides {
  runtimeDir?: string | undefined;
  stateDir?: string | undefined;
  /** Directories named by the config file (after flags and environment, before defaults). */
  configRuntimeDir?: string | undefined;
  configStateDir?: string | undefined;
  /**
   * Whether /run/daemonctl is meant for us too: it exists and we may enter it (socketGroup), or
   * this is a container whose init is daemonctl.
   */
  systemDirServesUs?: boolean | undefined;
}

/** Linux `sun_path` is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/**
 * Path helpers without node:path, which costs ~0.8 ms of start-up in a compiled binary and is
 * on the `status` fast path. Daemon names never contain separators, so joining is plain.
 */
export function joinPath(...parts: string[]): string {
  return parts.join("/").replace(/\/{2,}/g, "/");
}

/** An absolute, normalised path (as node:path's `resolve` would give). */
export function absolutePath(p: string, cwd = process.cwd()): string {
  const segments: string[] = [];
  for (const s of (p.startsWith("/") ? p : `${cwd}/${p}`).split("/")) {
    if (!s || s === ".") continue;
    if (s === "..") segments.pop();
    else segments.push(s);
  }
  return `/${segments.join("/")}`;
}

export function dirnameOf(p: string): string {
  const abs = absolutePath(p);
  return abs.slice(0, abs.lastIndexOf("/")) || "/";
}

export function uid(): number {
  return process.getuid?.() ?? -1;
}

export const SYSTEM_RUNTIME_DIR = "/run/daemonctl";
export const SYSTEM_STATE_DIR = "/var/lib/daemonctl";

/**
 * The system directories serve root, and a non-root user outside a login session (no
 * XDG_RUNTIME_DIR) when /run/daemonctl is meant for them: a root daemonctl made it and either
 * shares it with their group (socketGroup) or is the container's init (`docker exec -u app`
 * into a container whose ENTRYPOINT is `daemonctl supervise`; without socketGroup they are then
 * told "permission denied" rather than shown an empty directory of their own). A cron job on an
 * ordinary machine where root once ran daemonctl keeps its own directories. Containers run as root with HOME=/root
 * (and sometimes XDG_* from the image), and the volume the docs tell users to mount is
 * /var/lib/daemonctl, so root never looks at HOME or XDG: every process of one container must
 * find the same directories whatever environment it brings.
 */
function systemScope(o: DirOverrides, env: NodeJS.ProcessEnv): boolean {
  return uid() === 0 || (!env.XDG_RUNTIME_DIR && o.systemDirServesUs === true);
}

export function resolveRuntimeDir(o: DirOverrides, env = process.env): string {
  if (o.runtimeDir) return o.runtimeDir;
  if (env.DAEMONCTL_RUNTIME_DIR) return env.DAEMONCTL_RUNTIME_DIR;
  if (o.configRuntimeDir) return o.configRuntimeDir;
  if (systemScope(o, env)) return SYSTEM_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return joinPath(env.XDG_RUNTIME_DIR, "daemonctl");
  return joinPath(env.TMPDIR || "/tmp", `daemonctl-${uid()}`);
}

export function resolveStateDir(o: DirOverrides, env = process.env): string {
  if (o.stateDir) return o.stateDir;
  if (env.DAEMONCTL_STATE_DIR) return env.DAEMONCTL_STATE_DIR;
  if (o.configStateDir) return o.configStateDir;
  if (systemScope(o, env)) return SYSTEM_STATE_DIR;
  if (env.XDG_STATE_HOME) return joinPath(env.XDG_STATE_HOME, "daemonctl");
  if (env.HOME) return joinPath(env.HOME, ".local", "state", "daemonctl");
  return joinPath(env.TMPDIR || "/tmp", `daemonctl-state-${uid()}`);
}

async function systemDirServesUs(): Promise<boolean> {
  const st = await statFollow(SYSTEM_RUNTIME_DIR);
  if (!st?.isDirectory) return false;
  if (mayEnter(st)) return true;
  // Our init is daemonctl: this is its container, and these are its daemons.
  const init = await readText("/proc/1/cmdline");
  return init.ok && /(^|\/)daemonctl\0/.test(init.text);
}

/** Absolute directories, so every process names the same socket the same way. */
export async function resolveDirs(o: DirOverrides, env = process.env): Promise<Dirs> {
  const given = (o.runtimeDir || env.DAEMONCTL_RUNTIME_DIR || o.configRuntimeDir) && (o.stateDir || env.DAEMONCTL_STATE_DIR || o.configStateDir);
  // Only a non-root user without a session pays for the stat (not root, not the status of a login user).
  const looks = !given && uid() !== 0 && !env.XDG_RUNTIME_DIR;
  const all = { ...o, systemDirServesUs: looks && (await systemDirServesUs()) };
  return { runtimeDir: absolutePath(resolveRuntimeDir(all, env)), stateDir: absolutePath(resolveStateDir(all, env)) };
}

export function isValidName(name: string): boolean {
  return DAEMON_NAME_RE.test(name);
}

/** Every file of one daemon. */
export interface DaemonFiles {
  name: string;
  runtimeDir: string;
  socket: string;
  /** The sd_notify datagram socket a `notify`/watchdog daemon's child gets as NOTIFY_SOCKET. */
  notify: string;
  metadata: string;
  spawnLock: string;
  bindLock: string;
  marker: string;
  state: string;
  logDir: string;
  log: string;
}

export function daemonFiles(dirs: Dirs, name: string): DaemonFiles {
  const r = dirs.runtimeDir;
  const logDir = joinPath(dirs.stateDir, "logs");
  return {
    name,
    runtimeDir: r,
    socket: joinPath(r, `${name}.sock`),
    notify: joinPath(r, `${name}.notify`),
    metadata: joinPath(r, `${name}.json`),
    spawnLock: joinPath(r, `${name}.json.lock`),
    bindLock: joinPath(r, `${name}.json.bind`),
    marker: joinPath(r, `${name}.stop.json`),
    state: joinPath(dirs.stateDir, `${name}.state.json`),
    logDir,
    log: joinPath(logDir, `${name}.log`),
  };
}

/**
 * Where a host binds this daemon's socket before renaming it to NAME.sock: `R/.NAME.bPID.N`.
 * /proc/net/unix keeps showing this bind-time path, so a listener proves which daemon (and which
 * process) it was bound for; see ownership.ts.
 */
export function bindPathOf(files: DaemonFiles, pid: number, n: number): string {
  return joinPath(files.runtimeDir, `.${files.name}.b${pid}.${n}`);
}

/** Is `path` a bind path `bindPathOf(files, pid, <any N>)`? The tail after the prefix is digits only. */
export function isBindPathOf(path: string, files: DaemonFiles, pid: number): boolean {
  const prefix = joinPath(files.runtimeDir, `.${files.name}.b${pid}.`);
  return path.startsWith(prefix) && /^\d+$/.test(path.slice(prefix.length));
}

/** An unusable runtime or state directory: the command fails (exit 1) with this message. */
export class DirError extends CliError {
  constructor(
    readonly code: "symlink" | "not-directory" | "foreign-owner" | "world-writable" | "denied" | "create-failed" | "socket-path-too-long",
    message: string,
  ) {
    super(message, 1);
  }
}

/**
 * A socket path that does not fit `sun_path`, as a clear error value. `what` names it: the final
 * NAME.sock, or the longer temporary path a host binds at first (bindPathOf).
 */
export function socketPathProblem(socketPath: string, what = "socket path"): DirError | null {
  const bytes = new TextEncoder().encode(socketPath).length;
  if (bytes <= MAX_SOCKET_PATH) return null;
  return new DirError(
    "socket-path-too-long",
    `${what} ${socketPath} is ${bytes} bytes, longer than the ${MAX_SOCKET_PATH}-byte limit for Unix sockets; ` +
      `set DAEMONCTL_RUNTIME_DIR (or --runtime-dir) to a shorter directory${what === "socket path" ? "" : ", or use a shorter daemon name"}`,
  );
}

/**
 * Why an existing directory must not be trusted, or null. Refused: a symlink (someone could point
 * it anywhere), an owner other than us or root, or write access for others (anyone could plant
 * a socket or a marker).
 */
export function dirProblem(dir: string, label: string): DirError | null {
  let st;
  try {
    st = nodeFs().lstatSync(dir);
  } catch {
    return null;
  }
  return problemOf(dir, label, { isDirectory: st.isDirectory(), isSymbolicLink: st.isSymbolicLink(), uid: st.uid, gid: st.gid, mode: st.mode });
}

/**
 * The same check for commands that only read (`status` is on a start-up budget): a native `stat`
 * that follows symlinks, so it checks the directory actually used. Commands that write also run
 * `dirProblem`, which refuses the symlink itself.
 */
export async function readDirProblem(dir: string, label: string): Promise<DirError | null> {
  const st = await statFollow(dir);
  return st ? problemOf(dir, label, st) : null;
}

function problemOf(dir: string, label: string, st: PathStat): DirError | null {
  if (st.isSymbolicLink) return new DirError("symlink", `${label} ${dir} is a symlink; refusing to use it (remove it or point ${envName(label)} elsewhere)`);
  if (!st.isDirectory) return new DirError("not-directory", `${label} ${dir} exists and is not a directory`);
  const me = uid();
  if (me >= 0 && st.uid !== me && st.uid !== 0) {
    return new DirError("foreign-owner", `${label} ${dir} is owned by uid ${st.uid}, not by you (uid ${me}) or root; refusing to use it (set ${envName(label)})`);
  }
  if ((st.mode & 0o002) !== 0) {
    return new DirError("world-writable", `${label} ${dir} is writable by others (mode ${modeText(st.mode)}); refusing to use it (chmod o-w it, or set ${envName(label)})`);
  }
  if (!mayEnter(st)) {
    // Said plainly here, before a raw EACCES from deep inside (the `docker exec -u app` case).
    const owner = st.uid === 0 ? "root" : `uid ${st.uid}`;
    return new DirError(
      "denied",
      `permission denied: ${label} ${dir} is owned by ${owner} (mode ${modeText(st.mode)}) and you are uid ${me}; ` +
        `run as ${owner}, or set socketGroup in the config (and restart the daemons) so members of that group can use them; ` +
        `for daemons of your own, set ${envName(label)}`,
    );
  }
  return null;
}

function modeText(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}

/** Search and read permission on a directory, as the kernel will judge it for us. */
function mayEnter(st: PathStat): boolean {
  const me = uid();
  if (me <= 0) return true;
  if (st.uid === me) return (st.mode & 0o500) === 0o500;
  let groups: number[] = [];
  try {
    groups = [process.getegid?.() ?? -1, ...(process.getgroups?.() ?? [])];
  } catch {
    // unknown: judge by the "other" bits only
  }
  if (groups.includes(st.gid)) return (st.mode & 0o050) === 0o050;
  return (st.mode & 0o005) === 0o005;
}

/** Refuses directories we cannot use, before any command trips over them (reads and writes). */
export async function checkDirsUsable(dirs: Dirs): Promise<void> {
  const problem = (await readDirProblem(dirs.runtimeDir, "runtime directory")) ?? (await readDirProblem(dirs.stateDir, "state directory"));
  if (problem) throw problem;
}

function envName(label: string): string {
  return label.startsWith("state") ? "DAEMONCTL_STATE_DIR" : "DAEMONCTL_RUNTIME_DIR";
}

export interface EnsureDirOptions {
  /** Directory mode when daemonctl creates it; 0700 unless a group is configured. */
  mode?: number;
  /** Group (gid) to give a directory daemonctl creates, for `socketGroup`. */
  gid?: number;
}

/** Creates `dir` (and parents) with `mode` if missing, then checks it is safe. Throws DirError. */
export function ensureDir(dir: string, label: string, opts: EnsureDirOptions = {}): void {
  const mode = opts.mode ?? 0o700;
  const { lstatSync, mkdirSync, chmodSync, chownSync } = nodeFs();
  const problem = dirProblem(dir, label);
  if (problem) throw problem;
  let created = false;
  try {
    lstatSync(dir);
  } catch {
    try {
      mkdirSync(dir, { recursive: true, mode });
      created = true;
    } catch (e) {
      throw new DirError("create-failed", `cannot create ${label} ${dir}: ${(e as Error).message}`);
    }
  }
  if (created) {
    // mkdir applies the umask; set the exact mode we promised.
    try {
      if (opts.gid !== undefined && opts.gid >= 0) chownSync(dir, -1, opts.gid);
      chmodSync(dir, mode);
    } catch {
      // best effort: the checks below still refuse an unsafe result
    }
  }
  const after = dirProblem(dir, label);
  if (after) throw after;
}

export function ensureDirs(dirs: Dirs, opts: EnsureDirOptions = {}): void {
  ensureDir(dirs.runtimeDir, "runtime directory", opts);
  ensureDir(dirs.stateDir, "state directory", opts);
}
