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
