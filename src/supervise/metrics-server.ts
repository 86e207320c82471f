/**
 * `supervise --metrics [HOST:]PORT`: the supervised daemons' metrics over HTTP at `/metrics`
 * (docs/metrics.md). Bound before any daemon starts, so a taken port fails the start-up whole.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { METRICS_CONTENT_TYPE, formatMetrics } from "../daemon/client/metrics.ts";
import type { Status } from "../schema/status.ts";

export interface ListenAddress {
  host: string;
  port: number;
}

/** `9100` (loopback), `0.0.0.0:9100`, `[::]:9100`, `localhost:9100`; null if none of those. */
export function parseListenAddress(value: string): ListenAddress | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]:|([^:[\]\s]+):)?(\d{1,5})$/.exec(value);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65_535) return null;
  return { host: m[1] ?? m[2] ?? "127.0.0.1", port };
}

/** `127.0.0.1:9100`, `[::]:9100`: as the operator would write it. */
export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export interface MetricsServer {
  /** Where it listens (the real port when asked for port 0). */
  address: ListenAddress;
  close(): Promise<void>;
}

type ListenOutcome = { ok: true; server: MetricsServer } | { ok: false; message: string };

/** Listens on `at`; `statuses` is asked at every scrape, so it should be cheap and not block. */
export async function listenMetrics(at: ListenAddress, statuses: () => Status[]): Promise<ListenOutcome> {
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => answer(req, res, statuses));
  const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    server.once("error", resolve);
    server.listen(at.port, at.host, () => resolve(null));
  });
  const given = `--metrics ${formatListenAddress(at)}`;
  if (failure) {
    server.close();
    return { ok: false, message: `${given}: ${describeListenError(failure)}` };
  }
  const bound = server.address();
  const port = bound && typeof bound === "object" ? bound.port : at.port;
  return { ok: true, server: { address: { host: at.host, port }, close: () => closeServer(server) } };
}

function answer(req: IncomingMessage, res: ServerResponse, statuses: () => Status[]): void {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/metrics") return reply(res, 404, "text/plain; charset=utf-8", "not found; metrics are at /metrics\n", req.method === "HEAD");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return reply(res, 405, "text/plain; charset=utf-8", "method not allowed\n", false);
  }
  try {
    reply(res, 200, METRICS_CONTENT_TYPE, formatMetrics(statuses(), Date.now()), req.method === "HEAD");
  } catch (e) {
    reply(res, 500, "text/plain; charset=utf-8", `${(e as Error).message}\n`, req.method === "HEAD");
  }
}

function reply(res: ServerResponse, code: number, type: string, body: string, headOnly: boolean): void {
  res.writeHead(code, { "Content-Type": type, "Content-Length": new TextEncoder().encode(body).length });
  res.end(headOnly ? undefined : body);
}

function describeListenError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case "EADDRINUSE":
      return "address already in use; choose another port";
    case "EACCES":
      return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
    // Bun says EADDRNOTAVAIL for a name it cannot resolve too; Deno says EINVAL for an address
    // that is not this machine's.
    case "EADDRNOTAVAIL":
    case "EINVAL":
      return "not an address of this machine";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "cannot resolve the host name";
    default:
      return e.message;
  }
}

/** Scrapers keep connections alive: closing only stops new ones, so idle ones are dropped too. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    // A scrape still being answered must not hold up the supervisor's exit.
    setTimeout(resolve, 1_000).unref?.();
  });
}
