import { calibrate, type IsotonicCalibration } from './isotonic-calibration';

/**
 * Confidence-based performance estimation (CBPE, as NannyML estimates accuracy while labels are
 * pending): once a model's probabilities are calibrated, a prediction with calibrated probability c
 * of the positive class is right with probability c when it says positive and 1 − c when it says
 * negative, so the expected accuracy of a set of predictions is the mean of those chances: with the
 * usual 0.5 threshold, the mean of max(c, 1 − c). No label is needed; the estimate is only as good
 * as the calibration, which must come from labelled rows the model did not train on (the monitor
 * fits it on the champion's held-out evaluation day) and assumes the relation between score and
 * outcome has not changed since (covariate shift only; concept drift shows as estimate ≠ realized).
 */
export interface EstimatedAccuracy {
  /** Mean chance of being right; NaN for no predictions. */
  accuracy: number;
  rows: number;
}

/** `probabilities` are the model's P(positive); `predictedLabels` the labels it answered (1 positive, 0 negative). */
export function estimatedAccuracy(calibration: IsotonicCalibration, probabilities: ArrayLike<number>, predictedLabels: ArrayLike<number>): EstimatedAccuracy {
  let sum = 0;
  let rows = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const c = calibrate(calibration, probabilities[i]!);
    if (Number.isNaN(c)) continue;
    sum += predictedLabels[i] === 1 ? c : 1 - c;
    rows++;
  }
  return { accuracy: rows === 0 ? NaN : sum / rows, rows };
}
