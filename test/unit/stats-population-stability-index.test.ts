import { describe, expect, it } from 'vitest';
import { categoricalPsi, numericPsi } from '../../lib/stats/population-stability-index';

describe('population stability index', () => {
  it('is zero for identical samples', () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => i % 97);
    expect(numericPsi(xs, xs)).toBeCloseTo(0, 12);
    expect(categoricalPsi(['a', 'b', 'b', null], ['a', 'b', 'b', null])).toBeCloseTo(0, 12);
  });

  it('matches a hand-computed value for two categories', () => {
    // reference 50/50, current 80/20: (0.8-0.5)ln(0.8/0.5) + (0.2-0.5)ln(0.2/0.5)
    const reference = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
    const current = ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'b', 'b'];
    const expected = 0.3 * Math.log(0.8 / 0.5) + -0.3 * Math.log(0.2 / 0.5);
    expect(categoricalPsi(reference, current)).toBeCloseTo(expected, 12);
  });

  it('grows with a shift of the mean and counts missing values as their own bin', () => {
    const reference = Float64Array.from({ length: 5000 }, (_, i) => (i * 7919) % 1000);
    const small = reference.map((x) => x + 50);
    const large = reference.map((x) => x + 500);
    expect(numericPsi(reference, small)).toBeGreaterThan(0.01);
    expect(numericPsi(reference, large)).toBeGreaterThan(numericPsi(reference, small));
    const withMissing = Float64Array.from(reference, (x, i) => (i % 2 === 0 ? Number.NaN : x));
    expect(numericPsi(reference, withMissing)).toBeGreaterThan(1);
  });

  it('is NaN for an empty sample', () => {
    expect(numericPsi(new Float64Array(0), Float64Array.of(1))).toBeNaN();
    expect(categoricalPsi([], ['a'])).toBeNaN();
  });
});
