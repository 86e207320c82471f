/** `daemonctl events [NAME…]`: follow lifecycle events as JSON lines (daemonctl/event@1). */
import { writeStdout } from "../platform/files.ts";
import { ControlClient } from "../daemon/wire/client.ts";
import { daemonFiles, type Dirs } from "../daemon/state/paths.ts";
import { knownDaemons } from "../daemon/state/known.ts";
import { parseArgv } from "./_argv.ts";
import { createLogger } from "./_log.ts";
import { defineCommand } from "./_define.ts";
import { checkName, dirsFrom, probeTimeout, probeTimeoutFlag, withGlobals } from "./_shared.ts";

const flags = withGlobals({
  names: { type: "positional", description: "Daemon names (default: every known daemon, including ones that appear later)", required: false },
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
    const timeout = probeTimeout(p);
    const followed = new Map<string, ControlClient | "connecting" | null>();
    let stopped = false;
    let printing: Promise<void> = Promise.resolve();
    // Reconnects replay from the command's start; the same event is printed once.
    const since = new Date().toISOString();
    const printed = new Set<string>();
    const done = new Promise<void>((resolve) => {
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => {
        stopped = true;
        resolve();
      });
    });
    const connect = async (name: string) => {
      if (followed.get(name)) return;
      followed.set(name, "connecting");
      const c = await ControlClient.open(daemonFiles(dirs, name).socket, timeout);
      if (!(c instanceof ControlClient) || stopped) {
        followed.set(name, null);
        return;
      }
      followed.set(name, c);
      // One write at a time, so lines keep their order.
      c.onEvent = (e) => {
        const key = `${e.name}|${e.ts}|${e.type}|${e.pid}`;
        if (printed.has(key)) return;
        printed.add(key);
        if (printed.size > 1000) printed.delete(printed.values().next().value!);
        printing = printing.then(() => writeStdout(`${JSON.stringify(e)}\n`));
      };
      c.onClose = () => followed.set(name, null);
      const r = await c.request("events", { since }, timeout);
      if (r.kind !== "ok") c.close();
      else log.info(`following ${name}`);
    };
    // Hosts come and go (restarts, replacements): reconnect and discover once a second.
    const scan = () => {
      for (const name of fixed.length ? fixed : knownDaemons(dirs as Dirs)) void connect(name);
    };
    scan();
    const timer = setInterval(scan, 1000);
    await done;
    clearInterval(timer);
    for (const c of followed.values()) if (c instanceof ControlClient) c.close();
    await printing;
    return 0;
  },
});
