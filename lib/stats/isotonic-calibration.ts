/**
 * Isotonic calibration of a classifier's probabilities: the non-decreasing step function of the
 * score that best fits the observed labels in squared error (pool adjacent violators), as
 * sklearn.isotonic.IsotonicRegression(out_of_bounds='clip') fits and predicts it: tied scores are
 * pooled first (their labels averaged, weighted by count), the fitted values are interpolated
 * linearly between the distinct scores, and scores outside the fitted range take the value at the
 * nearest end. Fitted on a labelled sample the model did not train on, it maps a score to the
 * share of positives among rows with that score.
 */
export interface IsotonicCalibration {
  /** Distinct scores in ascending order... */
  readonly x: Float64Array;
  /** ...and the calibrated probability at each. */
  readonly y: Float64Array;
}

/** Fits on scores and 0/1 labels; at least one row. */
export function fitIsotonicCalibration(scores: ArrayLike<number>, labels: ArrayLike<number>): IsotonicCalibration {
  if (scores.length === 0) throw new Error('isotonic calibration needs at least one labelled score');
  if (scores.length !== labels.length) throw new Error(`isotonic calibration: ${scores.length} scores but ${labels.length} labels`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // Distinct scores with the mean label and the weight of each.
  const xs: number[] = [];
  const means: number[] = [];
  const weights: number[] = [];
  for (const i of order) {
    const s = scores[i]!;
    if (xs.length > 0 && xs[xs.length - 1] === s) {
      const k = xs.length - 1;
      means[k] = (means[k]! * weights[k]! + labels[i]!) / (weights[k]! + 1);
      weights[k]!++;
    } else {
      xs.push(s);
      means.push(labels[i]!);
      weights.push(1);
    }
  }
  // Pool adjacent violators over blocks [start, end] of distinct scores.
  const blockValue: number[] = [];
  const blockWeight: number[] = [];
  const blockEnd: number[] = [];
  for (let k = 0; k < xs.length; k++) {
    blockValue.push(means[k]!);
    blockWeight.push(weights[k]!);
    blockEnd.push(k);
    while (blockValue.length > 1 && blockValue[blockValue.length - 2]! > blockValue[blockValue.length - 1]!) {
      const w = blockWeight.pop()!;
      const v = blockValue.pop()!;
      const end = blockEnd.pop()!;
      const last = blockValue.length - 1;
      blockValue[last] = (blockValue[last]! * blockWeight[last]! + v * w) / (blockWeight[last]! + w);
      blockWeight[last]! += w;
      blockEnd[last] = end;
    }
  }
  const y = new Float64Array(xs.length);
  let start = 0;
  blockEnd.forEach((end, b) => {
    for (let k = start; k <= end; k++) y[k] = blockValue[b]!;
    start = end + 1;
  });
  return { x: Float64Array.from(xs), y };
}

/** The calibrated probability of a score (np.interp over the fitted points, clipped at both ends). */
export function calibrate(calibration: IsotonicCalibration, score: number): number {
  const { x, y } = calibration;
  if (Number.isNaN(score)) return NaN;
  if (score <= x[0]!) return y[0]!;
  const last = x.length - 1;
  if (score >= x[last]!) return y[last]!;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const t = (score - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}
