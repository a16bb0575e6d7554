import { describe, expect, it } from 'vitest';
import { kolmogorovSurvival, twoSampleKolmogorovSmirnov } from '../../lib/stats/kolmogorov-smirnov';

// Samples both languages build to the same doubles: integer arithmetic, then one correctly rounded operation per step.
const a = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % 1009) / 1009);
const c = (n: number, shift: number) => Array.from({ length: n }, (_, j) => ((j * 104729 + 17) % 997) / 997 + shift);
const b = (n: number, shift: number) => c(n, 0).map((t) => t * t * 0.9 + shift);
const rounded = (values: number[], decimals: number) => values.map((v) => Number(v.toFixed(decimals)));

/*
 * Reference values from scipy 1.17.1 (method 'exact' where ours is exact, 'asymp' otherwise), produced by:
 *
 * python3 - <<'PY'
 * from scipy import stats
 * def a(n): return [((i*7919) % 1009)/1009 for i in range(n)]
 * def c(n, s): return [((j*104729+17) % 997)/997 + s for j in range(n)]
 * def b(n, s): return [t*t*0.9 + s for t in c(n, 0)]
 * for x, y, m in [([0.1,0.2,0.3], [0.4,0.5,0.6,0.7], 'exact'), ([round(v,2) for v in a(50)], [round(v,2) for v in b(50, 0.05)], 'exact'),
 *                 (a(200), b(200, 0.2), 'exact'), (a(20000), c(20000, 0.01), 'exact'), (a(30), b(47, 0.1), 'exact'),
 *                 ([round(v,1) for v in a(300)], [round(v,1) for v in b(170, 0.1)], 'exact'), (a(6000), c(5000, 0.02), 'asymp')]:
 *     r = stats.ks_2samp(x, y, method=m); en = len(x)*len(y)/(len(x)+len(y))
 *     print(repr(float(r.statistic)), repr(float(r.pvalue)), repr(float(stats.kstwobign.sf(r.statistic * en**0.5))))
 * print([float(stats.kstwobign.sf(x)) for x in [0.2, 0.5, 0.9, 1.0, 1.2, 1.5, 3.0]])
 * PY
 */
const cases: Array<{ name: string; x: number[]; y: number[]; statistic: number; pValue: number; method: 'exact' | 'asymptotic' }> = [
  { name: 'disjoint, 3 vs 4', x: [0.1, 0.2, 0.3], y: [0.4, 0.5, 0.6, 0.7], statistic: 1, pValue: 0.05714285714285715, method: 'exact' },
  { name: 'equal sizes 50, tied values', x: rounded(a(50), 2), y: rounded(b(50, 0.05), 2), statistic: 0.3, pValue: 0.02170784069014051, method: 'exact' },
  { name: 'equal sizes 200', x: a(200), y: b(200, 0.2), statistic: 0.2, pValue: 0.000648608042418048, method: 'exact' },
  { name: 'equal sizes 20000 (scipy auto would switch to asymp)', x: a(20000), y: c(20000, 0.01), statistic: 0.01095, pValue: 0.18165579323859146, method: 'exact' },
  { name: 'unequal 30 vs 47', x: a(30), y: b(47, 0.1), statistic: 0.2475177304964539, pValue: 0.17381779361060085, method: 'exact' },
  { name: 'unequal 300 vs 170, tied values', x: rounded(a(300), 1), y: rounded(b(170, 0.1), 1), statistic: 0.2088235294117647, pValue: 0.0001245516649883524, method: 'exact' },
];

describe('twoSampleKolmogorovSmirnov (pinned to scipy.stats.ks_2samp)', () => {
  it.each(cases)('$name', ({ x, y, statistic, pValue, method }) => {
    const result = twoSampleKolmogorovSmirnov(x, y);
    expect(result.method).toBe(method);
    expect(result.statistic).toBeCloseTo(statistic, 12);
    expect(Math.abs(result.pValue - pValue)).toBeLessThanOrEqual(1e-9 * Math.max(pValue, 1e-6));
    // Symmetric in its arguments.
    expect(twoSampleKolmogorovSmirnov(y, x)).toMatchObject({ statistic: result.statistic });
    expect(twoSampleKolmogorovSmirnov(y, x).pValue).toBeCloseTo(result.pValue, 12);
  });

  it('uses Kolmogorov\'s limiting distribution beyond the exact limit (scipy.stats.kstwobign), close to ks_2samp(method="asymp")', () => {
    const result = twoSampleKolmogorovSmirnov(a(6000), c(5000, 0.02));
    expect(result.method).toBe('asymptotic');
    expect(result.statistic).toBeCloseTo(0.020833333333333336, 12);
    expect(result.pValue).toBeCloseTo(0.18728933221463173, 12);
    // ks_2samp's asymp (kstwo at round(m·n/(m+n))) gives 0.18474950446417748.
    expect(Math.abs(result.pValue - 0.18474950446417748)).toBeLessThan(0.005);
  });

  it('Kolmogorov survival function matches scipy.stats.kstwobign.sf on both of its series', () => {
    const expected = [0.999999999999495, 0.9639452436648751, 0.3927307079406543, 0.26999967167735456, 0.11224966667072497, 0.022217962616525127, 3.045995948942526e-8];
    [0.2, 0.5, 0.9, 1.0, 1.2, 1.5, 3.0].forEach((x, k) => expect(Math.abs(kolmogorovSurvival(x) - expected[k]!)).toBeLessThan(1e-13 + 1e-10 * expected[k]!));
    expect(kolmogorovSurvival(0)).toBe(1);
  });

  it('identical samples: statistic 0, p-value 1', () => {
    expect(twoSampleKolmogorovSmirnov([0.2, 0.2, 0.7], [0.7, 0.2, 0.2])).toMatchObject({ statistic: 0, pValue: 1 });
  });

  it('an empty sample or a NaN gives NaN for both numbers, as scipy does', () => {
    expect(twoSampleKolmogorovSmirnov([], [0.1])).toMatchObject({ statistic: NaN, pValue: NaN });
    expect(twoSampleKolmogorovSmirnov([0.1, NaN], [0.1, 0.3])).toMatchObject({ statistic: NaN, pValue: NaN });
  });
});
