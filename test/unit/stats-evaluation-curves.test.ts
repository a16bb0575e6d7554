import { describe, expect, it } from 'vitest';
import { calibrationCurve, MAX_ROC_POINTS, rocCurve } from '../../lib/stats/evaluation-curves';
import { expectedCalibrationError, rocAuc } from '../../lib/stats/metrics';
import { mulberry32 } from '../../lib/stats/seeded-random';

const labels = (...values: number[]) => Uint8Array.from(values);

/** Trapezoidal area under a curve of points sorted by fpr. */
function area(points: { fpr: number; tpr: number }[]): number {
  let sum = 0;
  for (let k = 1; k < points.length; k++) sum += ((points[k]!.fpr - points[k - 1]!.fpr) * (points[k]!.tpr + points[k - 1]!.tpr)) / 2;
  return sum;
}

describe('rocCurve', () => {
  it('has one point per distinct score from (0, 0) to (1, 1)', () => {
    expect(rocCurve(labels(0, 0, 1, 1), [0.1, 0.4, 0.35, 0.8])).toEqual([
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 0, tpr: 0.5, threshold: 0.8 },
      { fpr: 0.5, tpr: 0.5, threshold: 0.4 },
      { fpr: 0.5, tpr: 1, threshold: 0.35 },
      { fpr: 1, tpr: 1, threshold: 0.1 },
    ]);
  });

  it('moves diagonally through tied scores, so its area is the AUC with ties as one half', () => {
    const y = labels(0, 1, 0, 1);
    const s = [0.5, 0.5, 0.2, 0.9];
    const curve = rocCurve(y, s);
    expect(curve.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    expect(area(curve)).toBeCloseTo(rocAuc(y, s), 12);
  });

  it(`keeps at most ${MAX_ROC_POINTS} points, both ends, and the shape of the curve`, () => {
    const random = mulberry32(1);
    const n = 20_000;
    const y = new Uint8Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = random() < 0.3 ? 1 : 0;
      s[i] = 0.3 * y[i]! + 0.7 * random();
    }
    const curve = rocCurve(y, s);
    expect(curve.length).toBeLessThanOrEqual(MAX_ROC_POINTS);
    expect(curve.length).toBeGreaterThan(MAX_ROC_POINTS / 2);
    expect(curve[0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
    expect([curve.at(-1)!.fpr, curve.at(-1)!.tpr]).toEqual([1, 1]);
    for (let k = 1; k < curve.length; k++) {
      expect(curve[k]!.fpr).toBeGreaterThanOrEqual(curve[k - 1]!.fpr);
      expect(curve[k]!.tpr).toBeGreaterThanOrEqual(curve[k - 1]!.tpr);
    }
    expect(area(curve)).toBeCloseTo(rocAuc(y, s), 3);
    expect(rocCurve(y, s, 10).length).toBeLessThanOrEqual(10);
  });

  it('is empty when the AUC is undefined', () => {
    expect(rocCurve(labels(1, 1), [0.2, 0.4])).toEqual([]);
    expect(rocCurve(labels(), [])).toEqual([]);
    expect(rocCurve(labels(0, 1), [NaN, 0.4])).toEqual([]);
  });
});

describe('calibrationCurve', () => {
  it('reports mean score, share of positives and rows for each of 10 bins, null for empty bins', () => {
    const y = labels(0, 1, 1, 1);
    const s = [0.12, 0.18, 0.95, 1];
    const bins = calibrationCurve(y, s);
    expect(bins).toHaveLength(10);
    expect(bins[1]).toMatchObject({ lower: 0.1, upper: 0.2, count: 2, fractionPositive: 0.5 });
    expect(bins[1]!.meanPredicted).toBeCloseTo(0.15, 12);
    expect(bins[9]).toMatchObject({ lower: 0.9, upper: 1, count: 2, fractionPositive: 1 });
    expect(bins[0]).toEqual({ lower: 0, upper: 0.1, meanPredicted: null, fractionPositive: null, count: 0 });
  });

  it('uses the bins of the expected calibration error', () => {
    const random = mulberry32(2);
    const n = 1000;
    const y = new Uint8Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = random();
      y[i] = random() < s[i]! ** 1.5 ? 1 : 0;
    }
    const ece = calibrationCurve(y, s).reduce((sum, b) => sum + (b.count > 0 ? (Math.abs(b.meanPredicted! - b.fractionPositive!) * b.count) / n : 0), 0);
    expect(ece).toBeCloseTo(expectedCalibrationError(y, s), 12);
  });

  it('survives a JSON round trip unchanged (no NaN or Infinity)', () => {
    const curves = { roc: rocCurve(labels(0, 1, 1), [0.2, 0.7, 0.4]), calibration: calibrationCurve(labels(0, 1, 1), [0.2, 0.7, 0.4]) };
    expect(JSON.parse(JSON.stringify(curves))).toEqual(curves);
  });
});
