import { describe, expect, it } from 'vitest';
import { binaryLabel, DECISION_THRESHOLD, predictedClass } from '../../lib/stats/decision-threshold';

describe('binaryLabel', () => {
  it('is 1 from the threshold up: a score at the threshold is positive', () => {
    expect(DECISION_THRESHOLD).toBe(0.5);
    expect(binaryLabel(0.5)).toBe(1);
    expect(binaryLabel(0.49999999999999994)).toBe(0);
    expect(binaryLabel(0.5000000000000001)).toBe(1);
    expect(binaryLabel(0)).toBe(0);
    expect(binaryLabel(1)).toBe(1);
    expect(binaryLabel(0.3, 0.3)).toBe(1);
    expect(binaryLabel(0.29, 0.3)).toBe(0);
  });

  it('gives 0 for a NaN score', () => {
    expect(binaryLabel(Number.NaN)).toBe(0);
  });
});

describe('predictedClass', () => {
  it('applies the threshold to column 1 of a binary row', () => {
    expect(predictedClass([0.5, 0.5], 2)).toBe(1);
    expect(predictedClass([0.6, 0.4], 2)).toBe(0);
    expect(predictedClass(Float32Array.from([0.9, 0.1, 0.5, 0.5]), 2, 2)).toBe(1);
  });

  it('takes the argmax of K > 2 classes, ties to the lowest index', () => {
    expect(predictedClass([0.2, 0.5, 0.3], 3)).toBe(1);
    expect(predictedClass([0.4, 0.4, 0.2], 3)).toBe(0);
    expect(predictedClass([0.1, 0.45, 0.45], 3)).toBe(1);
    expect(predictedClass([0, 0, 0, 0.2, 0.2, 0.6], 3, 3)).toBe(2);
    expect(predictedClass([Number.NaN, 0.3, 0.7], 3)).toBe(2);
    expect(predictedClass([0.3, Number.NaN, 0.7], 3)).toBe(2);
  });

  it('refuses fewer than two classes', () => {
    expect(() => predictedClass([1], 1)).toThrow('a classifier has at least 2 classes, got 1');
  });
});
