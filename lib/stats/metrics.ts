/**
 * Offline metrics for binary classifiers: `labels` hold 0/1, `scores` hold P(positive).
 * Every metric returns NaN when it is undefined for the input:
 * - no rows: every metric;
 * - one class only: auc and prAuc (there is no ranking of positives against negatives);
 * - f1 when there are no positive labels and no positive predictions (0/0);
 * - a NaN score: auc, prAuc, logLoss, brier and ece.
 * The definitions match scikit-learn (test/unit/ml-metrics-sklearn.test.ts checks it to 1e-6).
 * NaN becomes null in JSON (Temporal payloads, Postgres jsonb), so consumers of stored
 * metrics read them through `metricValue`.
 */
import type { MetricName } from '../spec/model-spec';
import { binaryLabel, DECISION_THRESHOLD } from './decision-threshold';

/** Summary of a classifier on one labelled set, as shown in evaluation reports and gates. */
export interface BinaryClassifierMetrics {
  rows: number;
  /** Area under the ROC curve. */
  auc: number;
  /** Area under the precision–recall curve as average precision (sklearn's average_precision_score). */
  prAuc: number;
  logLoss: number;
  /** Predicted class = score ≥ 0.5 (lib/stats/decision-threshold). */
  accuracy: number;
  /** F1 of the positive class, predicted class = score ≥ 0.5. */
  f1: number;
  /** Mean squared difference between score and label. */
  brier: number;
  /** Expected calibration error over 10 equal-width bins (see `expectedCalibrationError`). */
  ece: number;
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
  for (let i = 0; i < labels.length; i++) total += rowLogLoss(labels[i]!, scores[i]!);
  return total / labels.length;
}

/** One row's term of `logLoss`: −ln p for label 1, −ln(1 − p) for 0, p clipped the same way; NaN for a NaN score. */
export function rowLogLoss(label: number, score: number): number {
  const p = Math.min(Math.max(score, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
  return label === 1 ? -Math.log(p) : -Math.log(1 - p);
}

/**
 * Share of rows whose predicted class matches the label; the predicted class is the decision
 * rule's (lib/stats/decision-threshold: a score ≥ 0.5 predicts positive, 0.5 included).
 */
export function accuracy(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  if (labels.length === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    if (binaryLabel(scores[i]!) === labels[i]) correct++;
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

/**
 * Average precision: the area under the precision–recall curve as the step sum
 * Σₙ (Rₙ − Rₙ₋₁) · Pₙ over the distinct score thresholds, highest first (tied scores form
 * one threshold), exactly as sklearn.metrics.average_precision_score.
 * NaN if a class is absent or a score is NaN.
 */
export function averagePrecision(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i]!)) return NaN;
    positives += labels[i]! === 1 ? 1 : 0;
  }
  if (positives === 0 || positives === n) return NaN;

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let truePositives = 0;
  let predictedPositives = 0;
  let sum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    let blockPositives = 0;
    while (end < n && scores[order[end]!] === scores[order[start]!]) {
      blockPositives += labels[order[end]!] === 1 ? 1 : 0;
      end++;
    }
    truePositives += blockPositives;
    predictedPositives += end - start;
    sum += blockPositives * (truePositives / predictedPositives);
    start = end;
  }
  return sum / positives;
}

/**
 * F1 of the positive class (harmonic mean of precision and recall) with the predicted class
 * of the decision rule (score ≥ 0.5), as in `accuracy`. NaN when it is 0/0: no positive labels and
 * no positive predictions (sklearn's f1_score with zero_division=np.nan).
 */
export function f1Score(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = binaryLabel(scores[i]!) === 1;
    if (labels[i] === 1) {
      if (predicted) truePositives++;
      else falseNegatives++;
    } else if (predicted) {
      falsePositives++;
    }
  }
  const denominator = 2 * truePositives + falsePositives + falseNegatives;
  return denominator === 0 ? NaN : (2 * truePositives) / denominator;
}

/** Brier score: mean of (score − label)²; 0 is perfect, 0.25 is a constant 0.5. */
export function brierScore(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  if (labels.length === 0) return NaN;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const error = scores[i]! - labels[i]!;
    total += error * error;
  }
  return total / labels.length;
}

/** Number of equal-width score bins of the expected calibration error and the calibration curve. */
export const CALIBRATION_BINS = 10;

/**
 * The calibration bin of a score: bin b covers [b/10, (b+1)/10), the last bin also holds 1
 * (index = min(⌊10·score⌋, 9), scores outside [0, 1] clamp to the end bins). NaN for a NaN score.
 */
export function calibrationBin(score: number): number {
  return Math.min(Math.max(Math.floor(score * CALIBRATION_BINS), 0), CALIBRATION_BINS - 1);
}

/**
 * Expected calibration error (ECE) with 10 equal-width bins over [0, 1]:
 *   ECE = Σ_b (n_b / n) · |mean score in b − fraction of positives in b|
 * where n_b is the number of rows whose score falls in bin b (see `calibrationBin`);
 * empty bins contribute nothing. 0 is perfectly calibrated. NaN for no rows or a NaN score.
 */
export function expectedCalibrationError(labels: Uint8Array, scores: ArrayLike<number>): number {
  requireSameLength(labels, scores);
  const n = labels.length;
  if (n === 0) return NaN;
  const scoreSums = new Float64Array(CALIBRATION_BINS);
  const positives = new Float64Array(CALIBRATION_BINS);
  const counts = new Float64Array(CALIBRATION_BINS);
  for (let i = 0; i < n; i++) {
    const bin = calibrationBin(scores[i]!);
    if (Number.isNaN(bin)) return NaN;
    scoreSums[bin]! += scores[i]!;
    positives[bin]! += labels[i]!;
    counts[bin]!++;
  }
  let total = 0;
  // Σ (n_b/n)·|Σp/n_b − Σy/n_b| = Σ |Σp − Σy| / n
  for (let b = 0; b < CALIBRATION_BINS; b++) total += Math.abs(scoreSums[b]! - positives[b]!);
  return total / n;
}

/** How a metric is computed and which direction is better; reports and gates read it from here. */
export interface MetricDefinition {
  name: MetricName;
  /** Human-readable name for reports. */
  label: string;
  higherIsBetter: boolean;
  compute: (labels: Uint8Array, scores: ArrayLike<number>) => number;
}

/** Every offline metric, in report order. */
export const METRICS: readonly MetricDefinition[] = Object.freeze([
  { name: 'auc', label: 'ROC AUC', higherIsBetter: true, compute: rocAuc },
  { name: 'prAuc', label: 'PR AUC (average precision)', higherIsBetter: true, compute: averagePrecision },
  { name: 'accuracy', label: `Accuracy (score ≥ ${DECISION_THRESHOLD})`, higherIsBetter: true, compute: accuracy },
  { name: 'f1', label: `F1 (score ≥ ${DECISION_THRESHOLD})`, higherIsBetter: true, compute: f1Score },
  { name: 'logLoss', label: 'Log loss', higherIsBetter: false, compute: logLoss },
  { name: 'brier', label: 'Brier score', higherIsBetter: false, compute: brierScore },
  { name: 'ece', label: 'Expected calibration error (10 bins)', higherIsBetter: false, compute: expectedCalibrationError },
] satisfies MetricDefinition[]);

/** Names of all metrics, in report order. */
export const METRIC_NAMES: readonly MetricName[] = Object.freeze(METRICS.map((m) => m.name));

/** The definition of a metric; the error names the known metrics. */
export function metricDefinition(name: string): MetricDefinition {
  const found = METRICS.find((m) => m.name === name);
  if (!found) throw new Error(`unknown metric '${name}'; known: ${METRIC_NAMES.join(', ')}`);
  return found;
}

/**
 * A metric read from stored or transported metrics: JSON turns NaN into null, and metrics
 * stored before a metric existed lack it; both read as NaN ("could not be computed").
 */
export function metricValue(metrics: Partial<Record<MetricName, number | null>> | null | undefined, name: MetricName): number {
  const value = metrics?.[name];
  return typeof value === 'number' ? value : NaN;
}

/** All metrics of one classifier on one labelled set. */
export function evaluateBinaryClassifier(labels: Uint8Array, scores: ArrayLike<number>): BinaryClassifierMetrics {
  return {
    rows: labels.length,
    auc: rocAuc(labels, scores),
    prAuc: averagePrecision(labels, scores),
    logLoss: logLoss(labels, scores),
    accuracy: accuracy(labels, scores),
    f1: f1Score(labels, scores),
    brier: brierScore(labels, scores),
    ece: expectedCalibrationError(labels, scores),
    positiveRate: positiveRate(labels),
  };
}

function requireSameLength(labels: Uint8Array, scores: ArrayLike<number>): void {
  if (labels.length !== scores.length) throw new Error(`labels and scores differ in length: ${labels.length} labels, ${scores.length} scores`);
}
