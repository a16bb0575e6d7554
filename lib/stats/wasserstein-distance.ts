import { countedMeanAndStd, type AlignedNumericCounts, type NumericCounts } from './value-counts';

/**
 * The first Wasserstein (earth mover's) distance between two one-dimensional samples,
 * ∫ |F_ref(x) − F_cur(x)| dx over their empirical distribution functions, as
 * scipy.stats.wasserstein_distance computes it (the sum over consecutive distinct values of the
 * gap times the CDFs' difference), here on value counts. NaN when either sample is empty.
 */
export function wassersteinDistance(aligned: AlignedNumericCounts): number {
  const { values, reference, current, referenceTotal: m, currentTotal: n } = aligned;
  if (m === 0 || n === 0) return NaN;
  let cumulativeReference = 0;
  let cumulativeCurrent = 0;
  let sum = 0;
  for (let k = 0; k < values.length - 1; k++) {
    cumulativeReference += reference[k]!;
    cumulativeCurrent += current[k]!;
    sum += Math.abs(cumulativeReference / m - cumulativeCurrent / n) * (values[k + 1]! - values[k]!);
  }
  return sum;
}

/**
 * The smallest reference standard deviation the normed distance divides by (Evidently's
 * `max(np.std(reference), 0.001)`): a constant reference column would otherwise make any change,
 * however small, an infinite distance, and no change 0/0.
 */
export const MIN_NORM = 0.001;

/**
 * Wasserstein distance in units of the reference's standard deviation (population, ddof 0):
 * Evidently's `wasserstein` test, `wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)`, so
 * one threshold (0.1 by default: a tenth of a standard deviation) serves every feature whatever its
 * unit. A constant reference is divided by 0.001 (stated result: equal constants give 0).
 */
export function normedWassersteinDistance(aligned: AlignedNumericCounts, reference: NumericCounts): number {
  const distance = wassersteinDistance(aligned);
  if (Number.isNaN(distance)) return NaN;
  return distance / Math.max(countedMeanAndStd(reference).std, MIN_NORM);
}
