/**
 * Waiting for a condition the kernel gives no event for (a process dying, a socket file going):
 * poll with a backoff that starts short (the usual case is quick) and is capped (a slow case does
 * not spin), and never sleep past the deadline.
 */
export async function pollUntil(cond: () => boolean, timeoutMs: number, o: { firstMs?: number; maxMs?: number; between?: () => void } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = o.firstMs ?? 10; ; delay = Math.min(delay * 2, o.maxMs ?? 100)) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    o.between?.();
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
  }
}

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay setTimeout keeps: a duration from a config or EXTEND_TIMEOUT_USEC may exceed 24.8 days. */
export function timerDelay(ms: number): number {
  return Math.max(0, Math.min(ms, MAX_TIMER_MS));
}
