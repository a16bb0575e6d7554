import { describe, expect, it } from 'vitest';
import { scoreAgreement } from '../../lib/stats/score-agreement';

const a = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % 1009) / 1009);
const c = (n: number) => Array.from({ length: n }, (_, j) => ((j * 104729 + 17) % 997) / 997);

/*
 * Reference values from NumPy 2.4 (np.percentile's default is linear interpolation, lib/stats/quantile's):
 *
 * python3 -c "
 * import numpy as np
 * a = np.array([((i*7919) % 1009)/1009 for i in range(250)]); c = np.array([((j*104729+17) % 997)/997 for j in range(250)])*0.5+0.1
 * d = np.abs(c - a); print(repr(float(d.mean())), repr(float(np.percentile(d, 99))))
 * d = np.abs(np.array([0.2, 0.5, 0.6]) - np.array([0.1, 0.5, 0.9])); print(repr(float(d.mean())), repr(float(np.percentile(d, 99))))"
 */
describe('scoreAgreement (pinned to NumPy)', () => {
  it('mean and 99th percentile of |candidate - champion|', () => {
    const champion = a(250);
    const candidate = c(250).map((v) => v * 0.5 + 0.1);
    const result = scoreAgreement(champion, candidate);
    expect(result.pairs).toBe(250);
    expect(result.meanAbsDifference).toBeCloseTo(0.29108790235920845, 14);
    expect(result.p99AbsDifference).toBeCloseTo(0.7648519343958535, 14);
    expect(scoreAgreement([0.1, 0.5, 0.9], [0.2, 0.5, 0.6])).toMatchObject({ pairs: 3 });
    expect(scoreAgreement([0.1, 0.5, 0.9], [0.2, 0.5, 0.6]).meanAbsDifference).toBeCloseTo(0.13333333333333333, 14);
    expect(scoreAgreement([0.1, 0.5, 0.9], [0.2, 0.5, 0.6]).p99AbsDifference).toBeCloseTo(0.29600000000000004, 14);
  });

  it('identical scores agree exactly', () => {
    expect(scoreAgreement([0.3, 0.1], [0.3, 0.1])).toEqual({ pairs: 2, meanAbsDifference: 0, p99AbsDifference: 0 });
  });

  it('no pairs, or a NaN score: nothing measured (NaN), as NumPy propagates NaN', () => {
    expect(scoreAgreement([], [])).toEqual({ pairs: 0, meanAbsDifference: NaN, p99AbsDifference: NaN });
    expect(scoreAgreement([0.3, NaN], [0.3, 0.2])).toEqual({ pairs: 2, meanAbsDifference: NaN, p99AbsDifference: NaN });
  });

  it('refuses scores that are not one per request on both sides', () => {
    expect(() => scoreAgreement([0.1], [0.1, 0.2])).toThrow('score agreement needs one champion and one candidate score per request: got 1 and 2');
  });
});
