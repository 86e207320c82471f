/**
 * Schemas are built on first use, not at import. Building a zod schema costs real start-up time
 * in a compiled binary (about 0.1 ms per node before the JIT warms up), and `status --json` must
 * start in about twice the time of a hello world: each command pays only for what it parses.
 */
export function lazySchema<T>(build: () => T): () => T {
  let schema: T | undefined;
  return () => (schema ??= build());
}
