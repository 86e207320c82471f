/** `daemonctl events [NAME…]`: follow lifecycle events as JSON lines (daemonctl/event@1). */
import { writeStdout } from "../platform/files.ts";
import { ControlClient } from "../daemon/wire/client.ts";
import { daemonFiles, type Dirs } from "../daemon/state/paths.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import type { DaemonEvent } from "../schema/event.ts";
import type { Logger } from "../logger.ts";
import { bool, parseArgv } from "./_argv.ts";
import { retainedEvents } from "../daemon/client/retained-events.ts";
import { createLogger } from "./_log.ts";
import { defineCommand } from "./_define.ts";
import { checkName, dirsFrom, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names (default: every known daemon, including ones that appear later)", required: false },
  follow: { type: "boolean", default: true, description: "Keep following (--no-follow: print the events the hosts retain, then exit)" },
  ...probeTimeoutFlag,
});

export default defineCommand({
  meta: { name: "events", description: "Follow lifecycle events (spawn, ready, exit, restart, backoff, failed, stop, reclaim, replace) as JSON lines" },
  flags,
  async run(argv) {
    const p = parseArgv(argv, flags, "events");
    const log = createLogger(p);
    const dirs = await dirsFrom(p);
    const fixed = p.positionals.map(checkName);
    if (!bool(p, "follow")) {
      const events = await retainedEvents(dirs, fixed.length ? fixed : knownDaemons(dirs), probeTimeout(p));
      if (events.length) await writeStdout(events.map((e) => `${JSON.stringify(e)}\n`).join(""));
      return 0;
    }
    const follower = new EventFollower(dirs, probeTimeout(p), log);
    const done = untilSignalled(() => follower.stop());
    // Hosts come and go (restarts, replacements): reconnect and discover once a second.
    const scan = () => {
      for (const name of fixed.length ? fixed : knownDaemons(dirs as Dirs)) void follower.follow(name);
    };
    scan();
    const timer = setInterval(scan, 1000);
    await done;
    clearInterval(timer);
    await follower.close();
    return 0;
  },
});

function untilSignalled(onSignal: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => {
      onSignal();
      resolve();
    });
  });
}

/** One connection per daemon followed, all printing to stdout. */
class EventFollower {
  private readonly followed = new Map<string, ControlClient | "connecting" | null>();
  private stopped = false;
  private printing: Promise<void> = Promise.resolve();
  // Reconnects replay from the command's start; the same event is printed once.
  private readonly since = new Date().toISOString();
  private readonly printed = new Set<string>();

  constructor(
    private readonly dirs: Dirs,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Connects to `name` and subscribes, unless already connected or connecting. */
  async follow(name: string): Promise<void> {
    if (this.followed.get(name)) return;
    this.followed.set(name, "connecting");
    const c = await ControlClient.open(daemonFiles(this.dirs, name).socket, this.timeoutMs);
    if (!(c instanceof ControlClient) || this.stopped) {
      this.followed.set(name, null);
      return;
    }
    this.followed.set(name, c);
    c.onEvent = (e) => this.print(e);
    c.onClose = () => this.followed.set(name, null);
    const r = await c.request("events", { since: this.since }, this.timeoutMs);
    if (r.kind !== "ok") c.close();
    else this.log.info(`following ${name}`);
  }

  /** One write at a time, so lines keep their order. */
  private print(e: DaemonEvent): void {
    const key = `${e.name}|${e.ts}|${e.type}|${e.pid}`;
    if (this.printed.has(key)) return;
    this.printed.add(key);
    if (this.printed.size > 1000) this.printed.delete(this.printed.values().next().value!);
    this.printing = this.printing.then(() => writeStdout(`${JSON.stringify(e)}\n`));
  }

  /** No new connection from now on (one still opening is dropped). */
  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    for (const c of this.followed.values()) if (c instanceof ControlClient) c.close();
    await this.printing;
  }
}
