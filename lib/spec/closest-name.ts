/**
 * Edit distance between two names (optimal string alignment: insertions, deletions,
 * substitutions and swaps of two neighbouring characters each cost 1), compared
 * case-insensitively, so `nulable`, `nullabel` and `Nullable` are all 1 from `nullable`.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows = s.length + 1;
  const cols = t.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[s.length]![t.length]!;
}

/**
 * The candidate a misspelt `name` most likely meant: the nearest by edit distance, if it
 * is within a third of the longer name's length (at least 1, at most 3 edits), so that
 * `minimum` suggests `minimums` but `colour` suggests nothing among `name` and `type`.
 * Failing that, the shortest candidate that `name` (of 4 characters or more) begins,
 * so that `timeout` suggests `timeoutSeconds`. Ties go to the earlier candidate.
 * @example closestName('minimum', ['minimums', 'maxRegression']) // 'minimums'
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    const allowed = Math.min(3, Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3)));
    if (distance <= allowed && (!best || distance < best.distance)) best = { candidate, distance };
  }
  if (best) return best.candidate;
  if (name.length < 4) return undefined;
  const lower = name.toLowerCase();
  const prefixed = candidates.filter((c) => c.toLowerCase().startsWith(lower));
  return prefixed.reduce<string | undefined>((shortest, c) => (shortest === undefined || c.length < shortest.length ? c : shortest), undefined);
}
