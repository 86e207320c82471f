/** Errors that end a command with a specific exit code and a message for the user. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The `error.code` of `--json` output; by default `usage` for exit 2, else `error`. */
    readonly jsonCode?: string,
  ) {
    super(message);
  }
}

/** Bad flags, names or config: exit 2 (docs/status.md#other-commands-exit-codes). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * Edit distance with transpositions (optimal string alignment): how many single-letter
 * insertions, deletions, changes or swaps of neighbours turn `a` into `b` (`jsno` → `json`: 1).
 * Quadratic, but it only ever compares a typo with a handful of command, flag or key names.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to a mistyped `word`, when it is close enough to be a typo (at most a
 * third of its letters wrong, and at least one right) or `word` is a prefix of only it;
 * otherwise null: a far-fetched guess misleads more than none.
 */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best !== null && bestDistance <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) && bestDistance < word.length) return best;
  const prefixed = candidates.filter((c) => word.length >= 2 && c.startsWith(word));
  return prefixed.length === 1 ? prefixed[0]! : null;
}

/** ` (did you mean "x"?)`, or "" when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[], quote = (s: string) => `"${s}"`): string {
  const c = closest(word, candidates);
  return c === null ? "" : ` (did you mean ${quote(c)}?)`;
}
