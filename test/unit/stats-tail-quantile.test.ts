import { describe, expect, it } from 'vitest';
import { quantileLabel, supportedTailQuantile, TAIL_OBSERVATIONS } from '../../lib/stats/tail-quantile';

describe('supportedTailQuantile', () => {
  it('leaves TAIL_OBSERVATIONS observations beyond the quantile, up to the target', () => {
    expect(supportedTailQuantile(1000)).toBe(0.99);
    expect(supportedTailQuantile(50_000)).toBe(0.99);
    expect(supportedTailQuantile(150)).toBeCloseTo(1 - 10 / 150, 12);
    expect(supportedTailQuantile(100)).toBeCloseTo(0.9, 12);
    expect(supportedTailQuantile(200, 0.9)).toBe(0.9);
    for (const n of [20, 100, 150, 999]) expect(Math.round(n * (1 - supportedTailQuantile(n)))).toBe(TAIL_OBSERVATIONS);
  });

  it('falls back to the median for small or empty samples', () => {
    expect(supportedTailQuantile(20)).toBe(0.5);
    expect(supportedTailQuantile(5)).toBe(0.5);
    expect(supportedTailQuantile(0)).toBe(0.5);
    expect(supportedTailQuantile(Number.NaN)).toBe(0.5);
  });
});

describe('quantileLabel', () => {
  it('names a quantile as a percentile with at most one decimal', () => {
    expect(quantileLabel(0.99)).toBe('p99');
    expect(quantileLabel(1 - 10 / 150)).toBe('p93.3');
    expect(quantileLabel(0.5)).toBe('p50');
  });
});
