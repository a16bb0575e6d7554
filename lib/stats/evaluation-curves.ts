/**
 * Curves for the evaluation report: the ROC curve (downsampled for drawing) and the
 * calibration curve over the same 10 bins as the expected calibration error.
 * Values are JSON-safe: undefined numbers are null, never NaN or Infinity.
 */
import { CALIBRATION_BINS, calibrationBin } from './metrics';

/** A point of the ROC curve: rows with score ≥ threshold are predicted positive. */
export interface RocPoint {
  fpr: number;
  tpr: number;
  /** null for the (0, 0) start, where nothing is predicted positive. */
  threshold: number | null;
}

/** One calibration bin [lower, upper) (the last also holds 1). */
export interface CalibrationBin {
  lower: number;
  upper: number;
  /** Mean score of the bin's rows; null for an empty bin. */
  meanPredicted: number | null;
  /** Share of positive labels among the bin's rows; null for an empty bin. */
  fractionPositive: number | null;
  count: number;
}

export interface ModelCurves {
  /** Empty when AUC is undefined (one class, no rows or NaN scores). */
  roc: RocPoint[];
  calibration: CalibrationBin[];
}

export interface EvaluationCurves {
  candidate: ModelCurves;
  champion: ModelCurves | null;
}

/** Most ROC points kept for drawing; the full curve has one per distinct score. */
export const MAX_ROC_POINTS = 200;

/**
 * The ROC curve from (0, 0) to (1, 1) with one point per distinct score (tied scores move
 * diagonally, as sklearn's roc_curve with drop_intermediate=False), then downsampled to at
 * most `maxPoints` points evenly spaced along the curve's length (|Δfpr| + |Δtpr|), always
 * keeping both ends, so steep and flat stretches keep their shape.
 */
export function rocCurve(labels: Uint8Array, scores: ArrayLike<number>, maxPoints = MAX_ROC_POINTS): RocPoint[] {
  if (maxPoints < 2) throw new Error(`maxPoints must be at least 2, got ${maxPoints}`);
  const n = labels.length;
  if (scores.length !== n) throw new Error(`labels and scores differ in length: ${n} labels, ${scores.length} scores`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i]!)) return [];
    positives += labels[i] === 1 ? 1 : 0;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return [];

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const full: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  let truePositives = 0;
  let falsePositives = 0;
  for (let k = 0; k < n; k++) {
    if (labels[order[k]!] === 1) truePositives++;
    else falsePositives++;
    const score = scores[order[k]!]!;
    if (k === n - 1 || scores[order[k + 1]!] !== score) {
      full.push({ fpr: falsePositives / negatives, tpr: truePositives / positives, threshold: Number.isFinite(score) ? score : null });
    }
  }
  return downsampleAlongLength(full, maxPoints);
}

function downsampleAlongLength(points: RocPoint[], maxPoints: number): RocPoint[] {
  if (points.length <= maxPoints) return points;
  const cumulative = new Float64Array(points.length);
  for (let k = 1; k < points.length; k++) {
    cumulative[k] = cumulative[k - 1]! + Math.abs(points[k]!.fpr - points[k - 1]!.fpr) + Math.abs(points[k]!.tpr - points[k - 1]!.tpr);
  }
  const length = cumulative[points.length - 1]!;
  const kept: RocPoint[] = [points[0]!];
  let k = 1;
  for (let target = 1; target < maxPoints - 1; target++) {
    const distance = (length * target) / (maxPoints - 1);
    while (k < points.length - 1 && cumulative[k]! < distance) k++;
    if (k >= points.length - 1) break;
    if (kept[kept.length - 1] !== points[k]) kept.push(points[k]!);
  }
  kept.push(points[points.length - 1]!);
  return kept;
}

/** Mean score, share of positives and row count per calibration bin (bins of `calibrationBin`). NaN scores are left out. */
export function calibrationCurve(labels: Uint8Array, scores: ArrayLike<number>): CalibrationBin[] {
  if (scores.length !== labels.length) throw new Error(`labels and scores differ in length: ${labels.length} labels, ${scores.length} scores`);
  const scoreSums = new Float64Array(CALIBRATION_BINS);
  const positives = new Float64Array(CALIBRATION_BINS);
  const counts = new Float64Array(CALIBRATION_BINS);
  for (let i = 0; i < labels.length; i++) {
    const bin = calibrationBin(scores[i]!);
    if (Number.isNaN(bin)) continue;
    scoreSums[bin]! += scores[i]!;
    positives[bin]! += labels[i]!;
    counts[bin]!++;
  }
  return Array.from({ length: CALIBRATION_BINS }, (_, b) => ({
    lower: b / CALIBRATION_BINS,
    upper: (b + 1) / CALIBRATION_BINS,
    meanPredicted: counts[b]! > 0 ? scoreSums[b]! / counts[b]! : null,
    fractionPositive: counts[b]! > 0 ? positives[b]! / counts[b]! : null,
    count: counts[b]!,
  }));
}

/** ROC and calibration curves of one model. */
export function modelCurves(labels: Uint8Array, scores: ArrayLike<number>): ModelCurves {
  return { roc: rocCurve(labels, scores), calibration: calibrationCurve(labels, scores) };
}
