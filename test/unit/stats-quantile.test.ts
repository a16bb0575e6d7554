import { describe, expect, it } from 'vitest';
import { quantile, quantileOfSorted } from '../../lib/stats/quantile';

describe('quantile', () => {
  // A latency-like sample, unsorted. Pinned with NumPy 2.4.6:
  //   python3 -c "import numpy as np; x=[0.31,0.12,0.57,0.44,0.98,0.2,1.7,0.66,0.05,0.39,2.5];
  //     print([repr(float(np.quantile(x,q))) for q in [0,0.01,0.25,0.37,0.5,0.77,0.9,1-10/150,0.99,1]])"
  const sample = [0.31, 0.12, 0.57, 0.44, 0.98, 0.2, 1.7, 0.66, 0.05, 0.39, 2.5];
  const pinned: [number, number][] = [
    [0, 0.05],
    [0.01, 0.057],
    [0.25, 0.255],
    [0.37, 0.36600000000000005],
    [0.5, 0.44],
    [0.77, 0.884],
    [0.9, 1.7],
    [1 - 10 / 150, 1.9666666666666672],
    [0.99, 2.4200000000000004],
    [1, 2.5],
  ];

  it.each(pinned)('q = %s matches numpy.quantile (method="linear") to the last bit', (q, expected) => {
    expect(quantile(sample, q)).toBe(expected);
  });

  it('interpolates from the upper neighbour for t ≥ 0.5, as NumPy does (a lower-only lerp gives 0.366 and 0.8840000000000001)', () => {
    const sorted = Float64Array.from(sample).sort();
    expect(quantileOfSorted(sorted, 0.37)).toBe(0.36600000000000005);
    expect(quantileOfSorted(sorted, 0.77)).toBe(0.884);
  });

  it('matches the small cases NumPy gives', () => {
    // python3 -c "import numpy as np; print([repr(float(np.quantile([1,2,3,4],q))) for q in [0.025,0.5,0.975]], np.quantile([7],0.3))"
    expect(quantileOfSorted([1, 2, 3, 4], 0.025)).toBe(1.075);
    expect(quantileOfSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileOfSorted([1, 2, 3, 4], 0.975)).toBe(3.925);
    expect(quantileOfSorted([7], 0.3)).toBe(7);
  });

  it('is NaN for no values and refuses a quantile outside [0, 1]', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantileOfSorted([], 0.99)).toBeNaN();
    expect(() => quantile([1, 2], 1.5)).toThrow('a quantile must be in [0, 1], got 1.5');
    expect(() => quantile([1, 2], Number.NaN)).toThrow('got NaN');
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    quantile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });
});
