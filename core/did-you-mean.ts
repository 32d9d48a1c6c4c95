// "did you mean …?" for a mistyped name: the closest allowed name by edit distance, offered
// only when it is close enough to be the likely intent (at most a third of its letters off).

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[t.length];
}

/** The allowed name closest to `input`, or null when none is plausibly meant. */
export function closestName(input: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of allowed) {
    const d = distance(input, name);
    if (d < bestDistance) { best = name; bestDistance = d; }
  }
  return best !== null && bestDistance > 0 && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}

/** ` (did you mean "p2c"?)`, or '' when nothing is close. */
export function didYouMean(input: unknown, allowed: readonly string[]): string {
  if (typeof input !== 'string') return '';
  const name = closestName(input, allowed);
  return name === null ? '' : `; did you mean ${JSON.stringify(name)}?`;
}

/**
 * node:util parseArgs' long "Unknown option '--prot'. To specify a positional argument …" as
 * one short line with a suggestion: `unknown flag --prot; did you mean "--port"?`.
 */
export function flagProblem(message: string, flags: readonly string[]): string {
  const m = /^Unknown option '(--?[^'=]+)'/.exec(message);
  if (!m) return message;
  return `unknown flag ${m[1]}${didYouMean(m[1], flags.map((f) => `--${f}`))}`;
}
