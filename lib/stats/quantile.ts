/**
 * The one quantile definition of Retrain: linear interpolation between order statistics
 * (Hyndman & Fan type 7), NumPy's default `method="linear"` and Postgres' `percentile_cont`.
 * Used for the bootstrap's percentile intervals, the shadow's latency percentiles and the
 * bench; the canary's latency percentiles are computed by Postgres' `percentile_cont` over the
 * same definition (see lib/db/repositories/predictions.ts).
 *
 * For ascending x[0..n-1] and 0 ≤ q ≤ 1: h = (n − 1)·q, j = ⌊h⌋, t = h − j,
 * Q(q) = x[j] + t·(x[j+1] − x[j]). The arithmetic is NumPy's to the last bit (`_lerp`: for
 * t ≥ 0.5 it interpolates from the upper neighbour, x[j+1] − (1 − t)·(x[j+1] − x[j]));
 * Postgres always interpolates from the lower one, so the two can differ in the last bit.
 */

/** The q-quantile of ascending `sorted` values; NaN for no values. Throws for q outside [0, 1]. */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`a quantile must be in [0, 1], got ${q}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const j = Math.floor(h);
  if (j >= n - 1) return sorted[n - 1]!;
  const below = sorted[j]!;
  const above = sorted[j + 1]!;
  const t = h - j;
  const step = above - below;
  return t >= 0.5 ? above - step * (1 - t) : below + step * t;
}

/** The q-quantile of `values` in any order (sorted on a copy); NaN for no values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileOfSorted(Float64Array.from(values).sort(), q);
}
