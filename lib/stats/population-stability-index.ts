/**
 * Population stability index (PSI) between a reference sample and a current
 * sample: sum over bins of (p_cur - p_ref) * ln(p_cur / p_ref). Conventional
 * reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
 * Empty bins get a small floor (1e-4) so the logarithm stays finite.
 */
const FLOOR = 1e-4;

function psiFromProportions(reference: readonly number[], current: readonly number[]): number {
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i] ?? 0, FLOOR);
    const c = Math.max(current[i] ?? 0, FLOOR);
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

/**
 * PSI of a numeric feature over `bins` quantile bins of the reference (NaN is
 * its own bin). NaN when either sample has no values at all.
 */
export function numericPsi(reference: ArrayLike<number>, current: ArrayLike<number>, bins = 10): number {
  if (reference.length === 0 || current.length === 0) return Number.NaN;
  const sorted = Float64Array.from(reference).filter((x) => !Number.isNaN(x)).sort();
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.floor((b * sorted.length) / bins))];
    if (edge !== undefined && edge !== edges.at(-1)) edges.push(edge);
  }
  const histogram = (values: ArrayLike<number>): number[] => {
    const counts = new Array<number>(edges.length + 2).fill(0);
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (Number.isNaN(x)) {
        counts[edges.length + 1]!++;
        continue;
      }
      // Bin k holds edges[k-1] <= x < edges[k].
      let lo = 0;
      let hi = edges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (x < edges[mid]!) hi = mid;
        else lo = mid + 1;
      }
      counts[lo]!++;
    }
    return counts.map((c) => c / values.length);
  };
  return psiFromProportions(histogram(reference), histogram(current));
}

/**
 * PSI of a categorical feature over the reference's `top` most frequent values
 * plus one bucket for everything else (and missing values).
 */
export function categoricalPsi(reference: ReadonlyArray<string | null>, current: ReadonlyArray<string | null>, top = 50): number {
  if (reference.length === 0 || current.length === 0) return Number.NaN;
  const frequency = new Map<string, number>();
  for (const v of reference) if (v !== null) frequency.set(v, (frequency.get(v) ?? 0) + 1);
  const kept = [...frequency.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top).map(([v]) => v);
  const index = new Map(kept.map((v, i) => [v, i]));
  const histogram = (values: ReadonlyArray<string | null>): number[] => {
    const counts = new Array<number>(kept.length + 1).fill(0);
    for (const v of values) counts[(v !== null ? index.get(v) : undefined) ?? kept.length]!++;
    return counts.map((c) => c / values.length);
  };
  return psiFromProportions(histogram(reference), histogram(current));
}
