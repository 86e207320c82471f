/**
 * Which JavaScript runtime we are on, and how to run ourselves again.
 *
 * This directory is the only place that knows Bun from Deno. Everything else uses node: APIs
 * that both implement, or the small wrappers exported here.
 */

// Minimal shapes of the runtime globals we touch, so both `tsc` (bun-types) and `deno check`
// accept this file without either runtime's full type definitions.
interface DenoLike {
  execPath(): string;
  mainModule: string;
  pid: number;
  connect(opts: { transport: "unix"; path: string }): Promise<DenoConn>;
  dlopen(path: string, symbols: Record<string, { parameters: string[]; result: string }>): {
    symbols: Record<string, (...args: unknown[]) => number>;
  };
}
export interface DenoConn {
  read(buf: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
  ref(): void;
  unref(): void;
}
interface BunLike {
  version: string;
  main: string;
  connect(opts: unknown): Promise<unknown>;
}

export const deno: DenoLike | undefined = (globalThis as { Deno?: DenoLike }).Deno;
export const bun: BunLike | undefined = deno ? undefined : (globalThis as { Bun?: BunLike }).Bun;
export const isBun = bun !== undefined;

/** True inside a `bun build --compile` executable (its modules live in a virtual `$bunfs`). */
export function isCompiled(): boolean {
  const main = process.argv[1] ?? "";
  return isBun && (main.startsWith("/$bunfs/") || main.includes("~BUN"));
}

/**
 * The argv prefix that starts this same program again: the compiled binary, `bun main.ts`,
 * or `deno run -A main.ts`. Detached hosts are launched with it.
 */
export function selfCommand(): string[] {
  if (deno) {
    const main = deno.mainModule.startsWith("file://") ? decodeURIComponent(new URL(deno.mainModule).pathname) : deno.mainModule;
    return [deno.execPath(), "run", "-A", main];
  }
  if (isCompiled()) return [process.execPath];
  return [process.execPath, process.argv[1] ?? "src/main.ts"];
}

/**
 * A full garbage collection, where the runtime offers one. A long-lived process calls it once
 * start-up has settled, so its idle footprint is what it needs rather than what booting left.
 */
export function collectGarbage(): void {
  (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun?.gc(true);
}

