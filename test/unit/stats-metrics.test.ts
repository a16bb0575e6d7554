import { describe, it, expect } from 'vitest';
import {
  accuracy,
  averagePrecision,
  brierScore,
  calibrationBin,
  evaluateBinaryClassifier,
  expectedCalibrationError,
  f1Score,
  logLoss,
  metricDefinition,
  metricValue,
  METRIC_NAMES,
  METRICS,
  positiveRate,
  rocAuc,
} from '../../lib/stats/metrics';
import { MetricName } from '../../lib/spec/model-spec';

const labels = (...values: number[]) => Uint8Array.from(values);

describe('rocAuc', () => {
  it('matches the hand-computed value of a small example', () => {
    // Positive–negative pairs ranked correctly: (0.35>0.1), (0.8>0.1), (0.8>0.4) of 4 → 0.75.
    expect(rocAuc(labels(0, 0, 1, 1), [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });

  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc(labels(0, 0, 1, 1), [0.1, 0.2, 0.3, 0.4])).toBe(1);
    expect(rocAuc(labels(1, 1, 0, 0), [0.1, 0.2, 0.3, 0.4])).toBe(0);
  });

  it('counts a tie between a positive and a negative as one half', () => {
    // Pairs: (0.5 vs 0.5) = 0.5, (0.5 vs 0.2) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.2) = 1 → 3.5 / 4.
    expect(rocAuc(labels(0, 1, 0, 1), [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(rocAuc(labels(0, 1, 1, 0, 1), [0.3, 0.3, 0.3, 0.3, 0.3])).toBeCloseTo(0.5, 12);
  });

  it('is NaN when one class is absent, the input is empty or a score is NaN', () => {
    expect(rocAuc(labels(1, 1, 1), [0.2, 0.5, 0.9])).toBeNaN();
    expect(rocAuc(labels(0, 0), [0.2, 0.5])).toBeNaN();
    expect(rocAuc(labels(), [])).toBeNaN();
    expect(rocAuc(labels(0, 1), [0.2, NaN])).toBeNaN();
  });

  it('rejects labels and scores of different lengths', () => {
    expect(() => rocAuc(labels(0, 1), [0.5])).toThrow(/2 labels, 1 scores/);
  });
});

describe('logLoss', () => {
  it('is the mean negative log-likelihood in nats', () => {
    // -(ln 0.8 + ln 0.7) / 2
    expect(logLoss(labels(1, 0), [0.8, 0.3])).toBeCloseTo(0.2899092476264711, 12);
  });

  it('clips certain mistakes to 1e-15 instead of returning Infinity', () => {
    expect(logLoss(labels(1), [0])).toBeCloseTo(-Math.log(1e-15), 6);
    expect(logLoss(labels(0), [1])).toBeCloseTo(34.54, 2); // 1 - (1 - 1e-15) is 1.11e-15 in float64
  });

  it('is NaN for no rows', () => {
    expect(logLoss(labels(), [])).toBeNaN();
  });
});

describe('accuracy', () => {
  it('predicts positive from 0.5 up: a score at the threshold is positive (lib/stats/decision-threshold)', () => {
    // Predictions 1, 1, 0, 0.
    expect(accuracy(labels(1, 0, 1, 0), [0.9, 0.5, 0.4, 0.1])).toBe(0.5);
    expect(accuracy(labels(1), [0.5])).toBe(1);
    expect(accuracy(labels(0), [0.49999999999999994])).toBe(1);
  });

  it('is NaN for no rows', () => {
    expect(accuracy(labels(), [])).toBeNaN();
  });
});

describe('positiveRate', () => {
  it('is the share of positive labels', () => {
    expect(positiveRate(labels(1, 0, 1, 1))).toBe(0.75);
    expect(positiveRate(labels())).toBeNaN();
  });
});

describe('evaluateBinaryClassifier', () => {
  it('reports every metric for one labelled set', () => {
    const result = evaluateBinaryClassifier(labels(0, 0, 1, 1), Float64Array.from([0.1, 0.4, 0.35, 0.8]));
    expect(result.rows).toBe(4);
    expect(result.auc).toBeCloseTo(0.75, 12);
    expect(result.accuracy).toBe(0.75);
    expect(result.positiveRate).toBe(0.5);
    // -(ln 0.9 + ln 0.6 + ln 0.35 + ln 0.8) / 4
    expect(result.logLoss).toBeCloseTo(0.47228795, 7);
    expect(result.prAuc).toBeCloseTo(5 / 6, 12);
    expect(result.f1).toBeCloseTo(2 / 3, 12);
    // (0.01 + 0.16 + 0.4225 + 0.04) / 4
    expect(result.brier).toBeCloseTo(0.158125, 12);
    expect(result.ece).toBeCloseTo(0.3375, 12);
  });

  it('is NaN for every metric on no rows, and NaN only for the ranking metrics on one class', () => {
    const empty = evaluateBinaryClassifier(labels(), []);
    expect(empty.rows).toBe(0);
    for (const name of METRIC_NAMES) expect(empty[name], name).toBeNaN();
    const oneClass = evaluateBinaryClassifier(labels(1, 1, 1), [0.9, 0.6, 0.2]);
    expect(oneClass.auc).toBeNaN();
    expect(oneClass.prAuc).toBeNaN();
    expect(oneClass.accuracy).toBeCloseTo(2 / 3, 12);
    expect(oneClass.f1).toBeCloseTo(0.8, 12);
    expect(oneClass.brier).toBeCloseTo((0.01 + 0.16 + 0.64) / 3, 12);
  });
});

describe('averagePrecision', () => {
  it('sums recall steps times precision over thresholds, highest score first', () => {
    // Thresholds 0.8 (P=1, R=.5), 0.4 (no recall step), 0.35 (P=2/3, R=1): 0.5·1 + 0.5·2/3.
    expect(averagePrecision(labels(0, 0, 1, 1), [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision(labels(0, 0, 1, 1), [0.1, 0.2, 0.3, 0.4])).toBe(1);
  });

  it('treats tied scores as one threshold, as sklearn does', () => {
    // One threshold at 0.7 with 2 positives of 3 rows: recall 0 → 1 at precision 2/3.
    // Breaking the tie positives-first would give 0.5·1 + 0.5·2/3 = 0.833 instead.
    expect(averagePrecision(labels(1, 0, 1, 0), [0.7, 0.7, 0.7, 0.1])).toBeCloseTo(2 / 3, 12);
  });

  it('is NaN when one class is absent, the input is empty or a score is NaN', () => {
    expect(averagePrecision(labels(1, 1), [0.2, 0.9])).toBeNaN();
    expect(averagePrecision(labels(0, 0), [0.2, 0.9])).toBeNaN();
    expect(averagePrecision(labels(), [])).toBeNaN();
    expect(averagePrecision(labels(0, 1), [0.2, NaN])).toBeNaN();
  });
});

describe('f1Score', () => {
  it('is 2·TP / (2·TP + FP + FN) with positive predictions from 0.5 up', () => {
    // Predictions 0,0,0,1: TP=1, FN=1, FP=0.
    expect(f1Score(labels(0, 0, 1, 1), [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(2 / 3, 12);
    // TP=1, FP=1, FN=1.
    expect(f1Score(labels(1, 0, 1), [0.9, 0.7, 0.2])).toBeCloseTo(0.5, 12);
  });

  it('counts a score of exactly 0.5 as a positive prediction', () => {
    expect(f1Score(labels(1, 1), [0.5, 0.51])).toBe(1);
    // TP=1, FP=1 (the 0.5), FN=0.
    expect(f1Score(labels(0, 1), [0.5, 0.9])).toBeCloseTo(2 / 3, 12);
  });

  it('is 0 when there are positives but none is found, and NaN when it is 0/0', () => {
    expect(f1Score(labels(1, 0), [0.2, 0.9])).toBe(0);
    expect(f1Score(labels(0, 0), [0.2, 0.3])).toBeNaN();
    expect(f1Score(labels(), [])).toBeNaN();
  });
});

describe('brierScore', () => {
  it('is the mean squared difference between score and label', () => {
    expect(brierScore(labels(1, 0), [0.8, 0.3])).toBeCloseTo(0.065, 12);
    expect(brierScore(labels(1, 0), [1, 0])).toBe(0);
  });

  it('is NaN for no rows or a NaN score', () => {
    expect(brierScore(labels(), [])).toBeNaN();
    expect(brierScore(labels(1), [NaN])).toBeNaN();
  });
});

describe('calibrationBin', () => {
  it('puts a score in [b/10, (b+1)/10) and 1 in the last bin; out-of-range scores clamp', () => {
    expect([0, 0.0999, 0.1, 0.35, 0.95, 1, 1.2, -0.1].map(calibrationBin)).toEqual([0, 0, 1, 3, 9, 9, 9, 0]);
    expect(calibrationBin(NaN)).toBeNaN();
  });
});

describe('expectedCalibrationError', () => {
  it('weights each bin gap |mean score - fraction positive| by the bin share of rows', () => {
    // Bin 1: mean 0.15 vs 1/2 positive → 0.35 × 2/4; bin 9: mean 0.975 vs 1 → 0.025 × 2/4.
    expect(expectedCalibrationError(labels(0, 1, 1, 1), [0.12, 0.18, 0.95, 1])).toBeCloseTo(0.1875, 12);
    // One row per bin: the mean absolute gap.
    expect(expectedCalibrationError(labels(0, 0, 1, 1), [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.3375, 12);
  });

  it('is 0 when every bin is calibrated even if individual rows are not', () => {
    expect(expectedCalibrationError(labels(1, 0, 0, 0), [0.25, 0.25, 0.25, 0.25])).toBe(0);
  });

  it('is NaN for no rows or a NaN score', () => {
    expect(expectedCalibrationError(labels(), [])).toBeNaN();
    expect(expectedCalibrationError(labels(0, 1), [0.2, NaN])).toBeNaN();
  });
});

describe('METRICS registry', () => {
  it('describes every metric of the model spec once, with its direction', () => {
    expect([...METRIC_NAMES].sort()).toEqual([...MetricName.options].sort());
    expect(Object.fromEntries(METRICS.map((m) => [m.name, m.higherIsBetter]))).toEqual({
      auc: true,
      prAuc: true,
      accuracy: true,
      f1: true,
      logLoss: false,
      brier: false,
      ece: false,
    });
  });

  it('computes the same values as evaluateBinaryClassifier', () => {
    const y = labels(0, 1, 1, 0, 1);
    const p = [0.2, 0.7, 0.4, 0.6, 0.9];
    const all = evaluateBinaryClassifier(y, p);
    for (const m of METRICS) expect(m.compute(y, p), m.name).toBe(all[m.name]);
  });

  it('names the known metrics when asked for an unknown one', () => {
    expect(metricDefinition('ece').higherIsBetter).toBe(false);
    expect(() => metricDefinition('rmse')).toThrow("unknown metric 'rmse'; known: auc, prAuc, accuracy, f1, logLoss, brier, ece");
  });
});

describe('metricValue', () => {
  it('reads null (NaN after JSON) and missing metrics (stored before the metric existed) as NaN', () => {
    const stored = JSON.parse(JSON.stringify({ auc: NaN, logLoss: 0.5 })) as Record<string, number | null>;
    expect(stored.auc).toBeNull();
    expect(metricValue(stored, 'auc')).toBeNaN();
    expect(metricValue(stored, 'logLoss')).toBe(0.5);
    expect(metricValue(stored, 'ece')).toBeNaN();
    expect(metricValue(null, 'auc')).toBeNaN();
  });
});
