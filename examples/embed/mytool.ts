#!/usr/bin/env node
/**
 * mytool: a CLI whose every invocation ensures its own background cache daemon and talks to it
 * (the shape of tools like mcporter). Run it under Node (built to .mjs), Bun or Deno:
 *
 *   mytool get KEY      the value of KEY, computed once by the cache daemon and then remembered
 *   mytool status       the cache daemon's status, as daemonctl sees it
 *   mytool serve        the cache daemon itself (daemonctl starts it; you do not)
 *
 * Environment: MYTOOL_SOCKET (the cache's socket; default in the temp dir), MYTOOL_TTL (seconds a
 * value stays cached; changing it changes the daemon's definition, so the next call replaces it).
 */
import { createConnection, createServer } from "node:net";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ensureDaemon, restart, status, StoppedByOperatorError, DaemonctlError, type DaemonDefinition } from "daemonctl";

const uid = process.getuid?.() ?? 0;
const socketPath = process.env.MYTOOL_SOCKET ?? join(tmpdir(), `mytool-${uid}.sock`);
const ttl = process.env.MYTOOL_TTL ?? "60";
const NAME = "mytool-cache";

/** This very program, in `serve` mode, under the runtime running it now. */
function selfCommand(): string[] {
  const script = process.argv[1]!;
  if ("Deno" in globalThis) return [process.execPath, "run", "-A", script, "serve"];
  return [process.execPath, script, "serve"];
}

function cacheDefinition(): DaemonDefinition {
  return {
    name: NAME,
    command: selfCommand(),
    // The definition's identity includes its working directory: without this, running mytool
    // from another directory would replace the cache (and lose what it holds).
    cwd: dirname(process.argv[1]!),
    env: { MYTOOL_SOCKET: socketPath, MYTOOL_TTL: ttl },
    // Ready once it accepts connections: callers never race its bind.
    ready: `unix:${socketPath}`,
    restart: "on-failure",
    stopTimeout: "1s",
  };
}

/** One request, one line back; null if the cache does not answer within `timeoutMs`. */
function ask(line: string, timeoutMs = 2_000): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    // A cache that is alive but stuck (frozen, deadlocked) still accepts connections: only an
    // answer proves it works.
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(null);
    }, timeoutMs);
    let answer = "";
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${line}\n`));
    sock.on("data", (d) => {
      answer += d;
      if (answer.includes("\n")) {
        clearTimeout(timer);
        sock.end();
        resolve(answer.trim());
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function get(key: string): Promise<number> {
  try {
    await ensureDaemon(cacheDefinition());
  } catch (e) {
    if (e instanceof StoppedByOperatorError) {
      console.error(`mytool: the cache is stopped (${e.message})`);
      return 3;
    }
    if (e instanceof DaemonctlError) {
      console.error(`mytool: cannot start the cache [${e.code}]: ${e.message}`);
      return 1;
    }
    throw e;
  }
  let answer = await ask(`get ${key}`);
  if (answer === null) {
    // Stuck: restart it (its stopTimeout bounds how long a stop that it ignores takes), once.
    console.error("mytool: the cache does not answer; restarting it");
    await restart(NAME);
    answer = await ask(`get ${key}`);
  }
  if (answer === null) {
    console.error("mytool: the cache does not answer, even after a restart");
    return 1;
  }
  console.log(answer);
  return 0;
}

/** The daemon: an in-memory cache of an expensive function, on a Unix socket. */
function serve(): Promise<number> {
  const cache = new Map<string, { value: string; until: number }>();
  rmSync(socketPath, { force: true });
  const server = createServer((conn) => {
    conn.setEncoding("utf8");
    let buf = "";
    conn.on("data", (d) => {
      buf += d;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const [verb, key = ""] = buf.slice(0, nl).split(" ");
        buf = buf.slice(nl + 1);
        if (verb !== "get") {
          conn.write("error: unknown request\n");
          continue;
        }
        const hit = cache.get(key);
        const fresh = hit && hit.until > Date.now();
        const value = fresh ? hit.value : createHash("sha256").update(key.repeat(100_000)).digest("hex").slice(0, 16);
        if (!fresh) cache.set(key, { value, until: Date.now() + Number(ttl) * 1000 });
        conn.write(`${key}=${value} (${fresh ? "hit" : "miss"}, cache pid ${process.pid})\n`);
      }
    });
    conn.on("error", () => {});
  });
  return new Promise((resolve) => {
    server.listen(socketPath);
    // daemonctl stops it with SIGTERM: close the socket and exit cleanly.
    process.on("SIGTERM", () => server.close(() => resolve(0)));
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, arg] = argv;
  if (command === "serve") return serve();
  if (command === "get" && arg) return get(arg);
  if (command === "status") {
    const s = await status(NAME);
    console.log(JSON.stringify(s, null, 2));
    return s.state === "running" ? 0 : 3;
  }
  console.error("usage: mytool get KEY | mytool status");
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
