/**
 * Offline metrics for binary classifiers: `labels` hold 0/1, `scores` hold P(positive).
 * Every metric returns NaN when it is undefined for the input (no rows, one class for AUC).
 */

/** Summary of a classifier on one labelled set, as shown in evaluation reports and gates. */
export interface BinaryClassifierMetrics {
  rows: number;
  auc: number;
  logLoss: number;
  accuracy: number;
  /** Share of positive labels (the base rate), not of positive predictions. */
  positiveRate: number;
}

/** Probabilities are clipped to [ε, 1 - ε] in log loss so one confident mistake costs a lot but not Infinity. */
const LOG_LOSS_EPSILON = 1e-15;

/**
 * Area under the ROC curve via the Mann–Whitney U statistic; tied scores get their average
 * rank (each positive–negative tie counts one half). NaN if a class is absent or a score is NaN.
 */
export function rocAuc(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i]!)) return NaN;
    positives += labels[i]! === 1 ? 1 : 0;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    // Ranks are 1-based: the tied block [start, end) shares the mean of ranks start+1 … end.
    const averageRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) if (labels[order[i]!] === 1) positiveRankSum += averageRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean binary cross-entropy in nats, with probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  if (labels.length === 0) return NaN;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(scores[i]!, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / labels.length;
}

/**
 * Share of rows whose predicted class matches the label; a score above 0.5 predicts positive,
 * which is what the exported ONNX model's `label` output (argmax, first index on ties) does.
 */
export function accuracy(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  if (labels.length === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    if ((scores[i]! > 0.5 ? 1 : 0) === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** Share of positive labels. */
export function positiveRate(labels: Uint8Array): number {
  if (labels.length === 0) return NaN;
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] === 1 ? 1 : 0;
  return positives / labels.length;
}

/** All metrics of one classifier on one labelled set. */
export function evaluateBinaryClassifier(labels: Uint8Array, scores: ArrayLike<number>): BinaryClassifierMetrics {
  return {
    rows: labels.length,
    auc: rocAuc(labels, scores),
    logLoss: logLoss(labels, scores),
    accuracy: accuracy(labels, scores),
    positiveRate: positiveRate(labels),
  };
}

function requireSameLength(labels: Uint8Array, scores: ArrayLike<number>): void {
  if (labels.length !== scores.length) throw new Error(`labels and scores differ in length: ${labels.length} labels, ${scores.length} scores`);
}
