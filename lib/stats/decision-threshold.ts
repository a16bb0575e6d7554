/**
 * The one rule that turns a classifier's probabilities into a predicted label, used by the
 * gateway's answers and log, batch predictions, offline metrics (accuracy, F1) and the shadow
 * and canary observations (their SQL takes DECISION_THRESHOLD as a parameter).
 *
 * Binary: label 1 when P(positive) ≥ threshold. A score exactly at the threshold is positive,
 * the convention of ROC and PR curve points ("score ≥ t"). A NaN score is label 0.
 * K > 2 classes: the argmax, ties going to the lowest class index (NaN never wins over a number).
 *
 * Retrain never reads a model's own `label` output: the built-in export's ArgMax sends a
 * 0.5/0.5 tie to class 0, where this rule says 1.
 */

/** P(positive) at or above this is label 1. */
export const DECISION_THRESHOLD = 0.5;

/** 1 when `probability` ≥ `threshold` (a score at the threshold is positive), else 0; NaN gives 0. */
export function binaryLabel(probability: number, threshold: number = DECISION_THRESHOLD): 0 | 1 {
  return probability >= threshold ? 1 : 0;
}

/**
 * The predicted class of one row of `classes` probabilities starting at `offset` of a row-major
 * [N, K] array: binaryLabel of column 1 for K = 2, the argmax (ties to the lowest index) for K > 2.
 */
export function predictedClass(probabilities: ArrayLike<number>, classes: number, offset = 0, threshold: number = DECISION_THRESHOLD): number {
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`a classifier has at least 2 classes, got ${classes}`);
  if (classes === 2) return binaryLabel(probabilities[offset + 1]!, threshold);
  let best = 0;
  let bestValue = probabilities[offset]!;
  for (let k = 1; k < classes; k++) {
    const value = probabilities[offset + k]!;
    // Strictly greater: a tie keeps the lower index. A NaN never beats a number.
    if (value > bestValue || (Number.isNaN(bestValue) && !Number.isNaN(value))) {
      best = k;
      bestValue = value;
    }
  }
  return best;
}
