/**
 * How close two models' probabilities are on the same requests: the mean absolute difference
 * |p_candidate − p_champion| and its 99th percentile (lib/stats/quantile, NumPy's default).
 * Agreement of labels at the decision threshold says nothing when both models stay on one side
 * of it (both predict "not delayed" almost always); the scores still differ, and this sees it.
 *
 * No pairs: both NaN (nothing measured). A NaN score on either side: both NaN, as NumPy's mean
 * and percentile propagate NaN: the caller reports the difference as not computable.
 */
import { quantileOfSorted } from './quantile';

export interface ScoreAgreement {
  pairs: number;
  meanAbsDifference: number;
  p99AbsDifference: number;
}

export function scoreAgreement(champion: ArrayLike<number>, candidate: ArrayLike<number>): ScoreAgreement {
  const n = champion.length;
  if (candidate.length !== n) throw new Error(`score agreement needs one champion and one candidate score per request: got ${n} and ${candidate.length}`);
  const differences = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(candidate[i]! - champion[i]!);
    if (Number.isNaN(d)) return { pairs: n, meanAbsDifference: NaN, p99AbsDifference: NaN };
    differences[i] = d;
    sum += d;
  }
  if (n === 0) return { pairs: 0, meanAbsDifference: NaN, p99AbsDifference: NaN };
  return { pairs: n, meanAbsDifference: sum / n, p99AbsDifference: quantileOfSorted(differences.sort(), 0.99) };
}
