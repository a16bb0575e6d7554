import { describe, it, expect } from 'vitest';
import { accuracy, evaluateBinaryClassifier, logLoss, positiveRate, rocAuc } from '../../lib/ml/metrics';

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
  it('predicts positive only above 0.5, like the ONNX label output', () => {
    expect(accuracy(labels(1, 0, 1, 0), [0.9, 0.5, 0.4, 0.1])).toBe(0.75);
    expect(accuracy(labels(1), [0.5])).toBe(0);
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
  });
});
