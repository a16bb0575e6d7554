import { total, type CategoricalCounts, type NumericCounts } from './value-counts';

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

/** The bin of x over ascending edges: bin k holds edges[k-1] <= x < edges[k]. */
function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
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
      counts[binOf(edges, x)]!++;
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

/**
 * numericPsi on value counts (lib/stats/value-counts.ts) instead of rows: the same decile edges of
 * the reference, the same bins, missing values as their own bin, the same number. The drift
 * monitor's samples arrive aggregated from SQL.
 */
export function numericPsiFromCounts(reference: NumericCounts, current: NumericCounts, bins = 10): number {
  const referenceRows = total(reference.counts) + reference.missing;
  const currentRows = total(current.counts) + current.missing;
  if (referenceRows === 0 || currentRows === 0) return Number.NaN;
  // The reference's sorted finite values at ranks floor(b·n/bins), as numericPsi picks them (NaN sorts last there, so n counts it).
  const cumulative = new Float64Array(reference.counts.length);
  let running = 0;
  for (let i = 0; i < reference.counts.length; i++) cumulative[i] = running += reference.counts[i]!;
  const finite = running;
  const valueAtRank = (rank: number): number | undefined => {
    if (rank >= finite) return undefined;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > rank) hi = mid;
      else lo = mid + 1;
    }
    return reference.values[lo];
  };
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const edge = valueAtRank(Math.min(finite - 1, Math.floor((b * finite) / bins)));
    if (edge !== undefined && edge !== edges.at(-1)) edges.push(edge);
  }
  const histogram = (sample: NumericCounts, rows: number): number[] => {
    const counts = new Array<number>(edges.length + 2).fill(0);
    counts[edges.length + 1] = sample.missing;
    for (let i = 0; i < sample.values.length; i++) {
      counts[binOf(edges, sample.values[i]!)]! += sample.counts[i]!;
    }
    return counts.map((c) => c / rows);
  };
  return psiFromProportions(histogram(reference, referenceRows), histogram(current, currentRows));
}

/** categoricalPsi on value counts: the reference's `top` categories plus one bucket for the rest and missing values. */
export function categoricalPsiFromCounts(reference: CategoricalCounts, current: CategoricalCounts, top = 50): number {
  const referenceRows = total(reference.counts) + reference.missing;
  const currentRows = total(current.counts) + current.missing;
  if (referenceRows === 0 || currentRows === 0) return Number.NaN;
  const kept = reference.categories
    .map((category, i) => [category, reference.counts[i]!] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([category]) => category);
  const index = new Map(kept.map((v, i) => [v, i]));
  const histogram = (sample: CategoricalCounts, rows: number): number[] => {
    const counts = new Array<number>(kept.length + 1).fill(0);
    counts[kept.length] = sample.missing;
    sample.categories.forEach((category, i) => (counts[index.get(category) ?? kept.length]! += sample.counts[i]!));
    return counts.map((c) => c / rows);
  };
  return psiFromProportions(histogram(reference, referenceRows), histogram(current, currentRows));
}
