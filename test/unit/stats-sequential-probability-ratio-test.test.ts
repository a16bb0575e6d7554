import { describe, expect, it } from 'vitest';
import { bernoulliSprt } from '../../lib/stats/sequential-probability-ratio-test';

const options = { p0: 0.8, minEffect: 0.1, alpha: 0.05, beta: 0.1 };

describe('bernoulliSprt', () => {
  it("uses Wald's bounds and the per-observation log-likelihood steps", () => {
    const result = bernoulliSprt([1, 0], options);
    expect(result.upperBound).toBeCloseTo(Math.log(0.9 / 0.05), 12);
    expect(result.lowerBound).toBeCloseTo(Math.log(0.1 / 0.95), 12);
    expect(result.logLikelihoodRatio).toBeCloseTo(Math.log(0.7 / 0.8) + Math.log(0.3 / 0.2), 12);
    expect(result.decision).toBe('continue');
  });

  it('stops early for a clear loser', () => {
    // 50% right against a reference of 80%.
    const outcomes = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : 0) as 0 | 1);
    const result = bernoulliSprt(outcomes, options);
    expect(result.decision).toBe('accept_h1');
    expect(result.observations).toBeLessThan(40);
  });

  it('accepts "not worse" for a model as good as the reference', () => {
    const outcomes = Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? 0 : 1) as 0 | 1);
    expect(bernoulliSprt(outcomes, options).decision).toBe('accept_h0');
  });

  it('keeps waiting on too little data, never passes it', () => {
    expect(bernoulliSprt([1, 1, 1], options).decision).toBe('continue');
    expect(bernoulliSprt([], options)).toMatchObject({ decision: 'continue', observations: 0 });
  });
});
