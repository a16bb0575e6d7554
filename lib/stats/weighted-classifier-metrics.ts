/**
 * The metrics of lib/ml/metrics.ts on a weighted sample, where weight k on a row means the
 * row appears k times. A bootstrap replicate is such a weighting (how often each holdout row
 * was drawn), so replicates are scored in O(n) without copying or re-sorting rows: the score
 * order is computed once per model by `prepareScores`.
 * With integer weights every value equals the metric of lib/ml/metrics.ts on the sample with
 * rows repeated (test/unit/stats-weighted-classifier-metrics.test.ts checks it).
 */
import type { MetricName } from '../spec/model-spec';
import { binaryLabel } from './decision-threshold';
import { CALIBRATION_BINS, calibrationBin } from './metrics';

/** Probabilities are clipped as in lib/ml/metrics.ts logLoss. */
const LOG_LOSS_EPSILON = 1e-15;
const NAN_BIN = 255;

/** One model's scores on a labelled set, pre-processed once and reused for every weighting. */
export interface PreparedScores {
  readonly rows: number;
  readonly labels: Uint8Array;
  readonly scores: Float64Array;
  /** Row indices by descending score (NaN scores last). */
  readonly order: Uint32Array;
  /** Labels in `order`. */
  readonly orderedLabels: Uint8Array;
  /** 1 where order[k] is the last row of a block of tied scores. */
  readonly blockEnd: Uint8Array;
  /** Per row: the decision rule's label, 1 when score ≥ 0.5 (the predicted class of accuracy and f1). */
  readonly predictedPositive: Uint8Array;
  /** Per row: the row's log-loss term, −ln p or −ln(1 − p) with p clipped. */
  readonly logLossTerm: Float64Array;
  /** Per row: (score − label)². */
  readonly squaredError: Float64Array;
  /** Per row: calibration bin (255 for a NaN score). */
  readonly bin: Uint8Array;
  /** Per row: 1 for a NaN score. */
  readonly nanScore: Uint8Array;
}

/** Sorts and tabulates one model's scores; O(n log n), done once per model. */
export function prepareScores(labels: Uint8Array, scores: ArrayLike<number>): PreparedScores {
  const n = labels.length;
  if (scores.length !== n) throw new Error(`labels and scores differ in length: ${n} labels, ${scores.length} scores`);
  const values = Float64Array.from(scores);
  const predictedPositive = new Uint8Array(n);
  const logLossTerm = new Float64Array(n);
  const squaredError = new Float64Array(n);
  const bin = new Uint8Array(n);
  const nanScore = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = values[i]!;
    const y = labels[i]!;
    predictedPositive[i] = binaryLabel(s);
    const p = Math.min(Math.max(s, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    logLossTerm[i] = y === 1 ? -Math.log(p) : -Math.log(1 - p);
    squaredError[i] = (s - y) * (s - y);
    const b = calibrationBin(s);
    nanScore[i] = Number.isNaN(s) ? 1 : 0;
    bin[i] = Number.isNaN(b) ? NAN_BIN : b;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Descending; NaN scores go last so they never split a block of finite ties.
  order.sort((a, b) => {
    const sa = values[a]!;
    const sb = values[b]!;
    if (Number.isNaN(sa)) return Number.isNaN(sb) ? a - b : 1;
    if (Number.isNaN(sb)) return -1;
    return sb - sa || a - b;
  });
  const orderedLabels = new Uint8Array(n);
  const blockEnd = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    orderedLabels[k] = labels[order[k]!]!;
    // NaN !== NaN, so every NaN score is its own block.
    blockEnd[k] = k === n - 1 || values[order[k + 1]!] !== values[order[k]!] ? 1 : 0;
  }
  return { rows: n, labels, scores: values, order, orderedLabels, blockEnd, predictedPositive, logLossTerm, squaredError, bin, nanScore };
}

/**
 * All seven metrics of the weighted sample (weights ≥ 0, one per row). Undefined metrics are
 * NaN under the rules of lib/ml/metrics.ts, applied to the rows with non-zero weight.
 */
export function weightedMetrics(prepared: PreparedScores, weights: ArrayLike<number>): Record<MetricName, number> {
  const n = prepared.rows;
  if (weights.length !== n) throw new Error(`expected ${n} weights, got ${weights.length}`);
  const { labels, scores, predictedPositive, logLossTerm, squaredError, bin, nanScore } = prepared;
  const binScoreSum = new Float64Array(CALIBRATION_BINS);
  const binPositives = new Float64Array(CALIBRATION_BINS);
  let total = 0;
  let positives = 0;
  let correct = 0;
  let truePositives = 0;
  let falsePositives = 0;
  let logLossSum = 0;
  let squaredErrorSum = 0;
  let nanWeight = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (w === 0) continue;
    const y = labels[i]!;
    const predicted = predictedPositive[i]!;
    total += w;
    if (y === 1) {
      positives += w;
      if (predicted === 1) {
        truePositives += w;
        correct += w;
      }
    } else if (predicted === 1) {
      falsePositives += w;
    } else {
      correct += w;
    }
    logLossSum += w * logLossTerm[i]!;
    squaredErrorSum += w * squaredError[i]!;
    if (nanScore[i] === 1) {
      nanWeight += w;
    } else {
      const b = bin[i]!;
      binScoreSum[b]! += w * scores[i]!;
      binPositives[b]! += w * y;
    }
  }
  const negatives = total - positives;

  let auc = NaN;
  let prAuc = NaN;
  if (positives > 0 && negatives > 0 && nanWeight === 0) {
    const { order, orderedLabels, blockEnd } = prepared;
    // Walk thresholds from the highest score down. For each block of tied scores:
    // AUC counts negatives below it (and half the tied ones), AP adds recall step × precision.
    let negativesAbove = 0;
    let truePositivesAbove = 0;
    let predictedAbove = 0;
    let blockPositives = 0;
    let blockNegatives = 0;
    let u = 0;
    let ap = 0;
    for (let k = 0; k < n; k++) {
      const w = weights[order[k]!]!;
      if (orderedLabels[k] === 1) blockPositives += w;
      else blockNegatives += w;
      if (blockEnd[k] === 0) continue;
      if (blockPositives > 0) {
        u += blockPositives * (negatives - negativesAbove - blockNegatives + blockNegatives / 2);
        truePositivesAbove += blockPositives;
        predictedAbove += blockPositives + blockNegatives;
        ap += blockPositives * (truePositivesAbove / predictedAbove);
      } else {
        predictedAbove += blockNegatives;
      }
      negativesAbove += blockNegatives;
      blockPositives = 0;
      blockNegatives = 0;
    }
    auc = u / (positives * negatives);
    prAuc = ap / positives;
  }

  let ece = NaN;
  if (total > 0 && nanWeight === 0) {
    let gap = 0;
    for (let b = 0; b < CALIBRATION_BINS; b++) gap += Math.abs(binScoreSum[b]! - binPositives[b]!);
    ece = gap / total;
  }
  const f1Denominator = 2 * truePositives + falsePositives + (positives - truePositives);
  return {
    auc,
    prAuc,
    accuracy: total > 0 ? correct / total : NaN,
    f1: f1Denominator > 0 ? (2 * truePositives) / f1Denominator : NaN,
    logLoss: total > 0 ? logLossSum / total : NaN,
    brier: total > 0 ? squaredErrorSum / total : NaN,
    ece,
  };
}
