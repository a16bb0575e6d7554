import type { AlignedCategoricalCounts, AlignedNumericCounts } from './value-counts';

/**
 * The shared bins of two samples for the binned drift distances (Jensen–Shannon), chosen as
 * Evidently 0.7's `get_binned_data` chooses them, so the two compute the same number:
 *
 * - a numeric feature whose reference has more than 20 distinct values: equal-width bins over the
 *   two samples' combined range, as many as Sturges' rule gives for the combined size,
 *   `np.histogram_bin_edges(concat(ref, cur), bins="sturges")`: width = range / (log2(n) + 1),
 *   ceil(range / width) bins, edges by np.linspace (edge i = first + i·step, the last one exact);
 *   counts as np.histogram counts with explicit edges: edge[k] ≤ x < edge[k+1], the last bin closed;
 * - otherwise (few distinct numbers, or categories): one bin per distinct value either sample has.
 *
 * On value counts: each distinct value goes to its bin with its count.
 */
export interface SharedBins {
  /** Bin edges (numeric, equal width), or null when every distinct value is its own bin. */
  readonly edges: Float64Array | null;
  readonly reference: Float64Array;
  readonly current: Float64Array;
}

/** Above this many distinct reference values a numeric feature is binned (Evidently's rule). */
export const MAX_DISTINCT_UNBINNED = 20;

export function sharedNumericBins(aligned: AlignedNumericCounts): SharedBins {
  const { values } = aligned;
  let referenceDistinct = 0;
  for (let k = 0; k < values.length; k++) if (aligned.reference[k]! > 0) referenceDistinct++;
  if (referenceDistinct <= MAX_DISTINCT_UNBINNED || values.length === 0) {
    return { edges: null, reference: aligned.reference, current: aligned.current };
  }
  const edges = sturgesEdges(values[0]!, values[values.length - 1]!, aligned.referenceTotal + aligned.currentTotal);
  const bins = edges.length - 1;
  const reference = new Float64Array(bins);
  const current = new Float64Array(bins);
  let bin = 0;
  for (let k = 0; k < values.length; k++) {
    const x = values[k]!;
    while (bin < bins - 1 && x >= edges[bin + 1]!) bin++;
    reference[bin]! += aligned.reference[k]!;
    current[bin]! += aligned.current[k]!;
  }
  return { edges, reference, current };
}

export function sharedCategoricalBins(aligned: AlignedCategoricalCounts): SharedBins {
  return { edges: null, reference: aligned.reference, current: aligned.current };
}

/** np.histogram_bin_edges(a, bins="sturges") for data with minimum `first`, maximum `last` and `n` values (float data). */
export function sturgesEdges(first: number, last: number, n: number): Float64Array {
  // numpy widens a zero range to ±0.5 and then, the width being 0, makes one bin.
  if (first === last) return linspace(first - 0.5, last + 0.5, 2);
  const width = (last - first) / (Math.log2(n) + 1);
  return linspace(first, last, Math.ceil((last - first) / width) + 1);
}

/** np.linspace(start, stop, num) with endpoint: start + i·step, the last one exactly stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}
