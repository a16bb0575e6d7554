import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../lib/stats/chi-square-distribution';
import { chiSquareHomogeneity } from '../../lib/stats/chi-square-test';
import { chooseDriftTest, DRIFT_TESTS, driftTest, runDriftTest } from '../../lib/stats/drift-tests';
import { sharedNumericBins } from '../../lib/stats/histogram-bins';
import { jensenShannonDistance } from '../../lib/stats/jensen-shannon-distance';
import { kolmogorovSmirnovFromCounts, twoSampleKolmogorovSmirnov } from '../../lib/stats/kolmogorov-smirnov';
import { lInfinityDistance } from '../../lib/stats/l-infinity-distance';
import { categoricalPsi, categoricalPsiFromCounts, numericPsi, numericPsiFromCounts } from '../../lib/stats/population-stability-index';
import { alignCategorical, alignNumeric, categoricalCountsOf, numericCountsOf, type FeatureCounts } from '../../lib/stats/value-counts';
import { normedWassersteinDistance, wassersteinDistance } from '../../lib/stats/wasserstein-distance';

// Samples both languages build to the same doubles (integer arithmetic, one rounded operation per step), as in stats-kolmogorov-smirnov.test.ts.
const a = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % 1009) / 1009);
const c = (n: number, shift: number) => Array.from({ length: n }, (_, j) => ((j * 104729 + 17) % 997) / 997 + shift);
const b = (n: number, shift: number) => c(n, 0).map((t) => t * t * 0.9 + shift);
const cats = (n: number, k: number, m: number) => Array.from({ length: n }, (_, i) => `c${(i * m) % k}`);
const numeric = (values: number[]): FeatureCounts => ({ kind: 'numeric', ...numericCountsOf(values) });
const categorical = (values: Array<string | null>): FeatureCounts => ({ kind: 'categorical', ...categoricalCountsOf(values) });

/*
 * Reference values from scipy 1.17.1 and numpy 2.4.6 (the referees' venv), produced by:
 *
 * python3 - <<'PY'
 * import numpy as np
 * from scipy import stats
 * from scipy.spatial import distance
 * def a(n): return [((i*7919) % 1009)/1009 for i in range(n)]
 * def c(n, s): return [((j*104729+17) % 997)/997 + s for j in range(n)]
 * def b(n, s): return [t*t*0.9 + s for t in c(n, 0)]
 * def cats(n, k, m): return ['c%d' % ((i*m) % k) for i in range(n)]
 * x, y = [round(v*50) for v in a(400)], [round(v*50) for v in b(300, 0.1)]
 * r = stats.ks_2samp(x, y, method='exact'); print('ks', repr(float(r.statistic)), repr(float(r.pvalue)))
 * print('w', repr(float(stats.wasserstein_distance(x, y))), repr(float(stats.wasserstein_distance(x, y)/max(np.std(x), 0.001))))
 * xa, ya = a(3000), b(2500, 0.05)
 * print('w2', repr(float(stats.wasserstein_distance(xa, ya))), repr(float(stats.wasserstein_distance(xa, ya)/np.std(xa))))
 * edges = np.histogram_bin_edges(np.asarray(xa + ya), bins='sturges')    # Evidently 0.7's bins for Jensen-Shannon
 * p = np.histogram(xa, edges)[0] / len(xa); q = np.histogram(ya, edges)[0] / len(ya)
 * print('js', len(edges) - 1, repr(float(distance.jensenshannon(p, q))))
 * rc, cc = cats(900, 7, 3), cats(700, 9, 5)
 * keys = sorted(set(rc) | set(cc))
 * table = np.array([[rc.count(k) for k in keys], [cc.count(k) for k in keys]])
 * chi = stats.chi2_contingency(table, correction=False); print('chi', repr(float(chi.statistic)), repr(float(chi.pvalue)), chi.dof)
 * pr = table[0] / table[0].sum(); pc = table[1] / table[1].sum()
 * print('jscat', repr(float(distance.jensenshannon(table[0], table[1]))), 'linf', repr(float(np.max(np.abs(pr - pc)))))
 * r2 = stats.chi2_contingency(np.array([[30, 70], [45, 55]]), correction=False); print('chi2x2', repr(float(r2.statistic)), repr(float(r2.pvalue)))
 * print([float(stats.chi2.sf(v, k)) for v, k in [(0.5, 1), (3.84, 1), (10, 3), (50, 20), (400, 300), (1e-3, 5)]])
 * PY
 */
const x = a(400).map((v) => Math.round(v * 50));
const y = b(300, 0.1).map((v) => Math.round(v * 50));
const xa = a(3000);
const ya = b(2500, 0.05);

describe('drift statistics on value counts, pinned to SciPy', () => {
  it('Kolmogorov–Smirnov from counts equals ks_2samp (exact) and the row-wise test', () => {
    const aligned = alignNumeric(numericCountsOf(x), numericCountsOf(y));
    const ks = kolmogorovSmirnovFromCounts(aligned.reference, aligned.current);
    expect(ks.statistic).toBeCloseTo(0.1925, 12);
    expect(Math.abs(ks.pValue - 5.097273484370406e-6)).toBeLessThan(1e-9 * 5.1e-6 + 1e-15);
    expect(ks).toEqual(twoSampleKolmogorovSmirnov(x, y));
  });

  it('Wasserstein distance and its normed form equal scipy.stats.wasserstein_distance (/ np.std of the reference)', () => {
    const aligned = alignNumeric(numericCountsOf(x), numericCountsOf(y));
    expect(wassersteinDistance(aligned)).toBeCloseTo(5.870833333333332, 10);
    expect(normedWassersteinDistance(aligned, numericCountsOf(x))).toBeCloseTo(0.40628011537683534, 10);
    const continuous = alignNumeric(numericCountsOf(xa), numericCountsOf(ya));
    expect(wassersteinDistance(continuous)).toBeCloseTo(0.15345942931948048, 12);
    expect(normedWassersteinDistance(continuous, numericCountsOf(xa))).toBeCloseTo(0.5316158729523306, 12);
  });

  it('Jensen–Shannon distance on Evidently’s Sturges bins equals scipy.spatial.distance.jensenshannon', () => {
    const bins = sharedNumericBins(alignNumeric(numericCountsOf(xa), numericCountsOf(ya)));
    expect(bins.edges!.length - 1).toBe(14);
    expect(jensenShannonDistance(bins.reference, bins.current)).toBeCloseTo(0.2007248660204081, 12);
    expect(runDriftTest('jensenshannon', numeric(xa), numeric(ya)).score).toBeCloseTo(0.2007248660204081, 12);
  });

  it('chi-square homogeneity equals chi2_contingency(correction=False); JS and L-infinity on the same categories', () => {
    const aligned = alignCategorical(categoricalCountsOf(cats(900, 7, 3)), categoricalCountsOf(cats(700, 9, 5)));
    const chi = chiSquareHomogeneity(aligned.reference, aligned.current);
    expect(chi.dof).toBe(8);
    expect(chi.statistic).toBeCloseTo(220.66846385113433, 9);
    expect(chi.pValue / 2.7815863013381958e-43).toBeCloseTo(1, 9);
    expect(jensenShannonDistance(aligned.reference, aligned.current)).toBeCloseTo(0.28922848530683, 12);
    expect(lInfinityDistance(aligned.reference, aligned.current)).toBeCloseTo(0.11142857142857143, 14);
    // 2 × 2: without Yates' correction, the two-proportion z-test's z².
    const two = chiSquareHomogeneity([30, 70], [45, 55]);
    expect(two.statistic).toBeCloseTo(4.8, 12);
    expect(two.pValue).toBeCloseTo(0.028459736916310638, 12);
  });

  it('the chi-square survival function equals scipy.stats.chi2.sf', () => {
    const expected = [0.47950012218695337, 0.05004352124870519, 0.01856613546304325, 0.0002214766382487835, 9.678621994933555e-5, 0.9999999983185123];
    const points: Array<[number, number]> = [[0.5, 1], [3.84, 1], [10, 3], [50, 20], [400, 300], [1e-3, 5]];
    points.forEach(([v, k], i) => expect(Math.abs(chiSquareSurvival(v, k) - expected[i]!) / expected[i]!).toBeLessThan(1e-10));
  });

  it('PSI on counts is numericPsi and categoricalPsi on the rows (deciles of the reference, missing values as a bin)', () => {
    const withMissing = [...ya.slice(0, 2000), NaN, NaN, NaN];
    expect(numericPsiFromCounts(numericCountsOf(xa), numericCountsOf(withMissing))).toBeCloseTo(numericPsi(Float64Array.from(xa), Float64Array.from(withMissing)), 12);
    const ref = cats(900, 7, 3);
    const cur: Array<string | null> = [...cats(700, 9, 5), null];
    expect(categoricalPsiFromCounts(categoricalCountsOf(ref), categoricalCountsOf(cur))).toBeCloseTo(categoricalPsi(ref, cur), 12);
  });

  it('PSI on a worked example: a 10-bin table, term by term', () => {
    // Reference and current shares of ten score bands; PSI = Σ (cur − ref)·ln(cur/ref), written out:
    const ref = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
    const cur = [0.05, 0.07, 0.09, 0.1, 0.11, 0.12, 0.12, 0.12, 0.11, 0.11];
    const byHand = ref.reduce((sum, r, i) => sum + (cur[i]! - r) * Math.log(cur[i]! / r), 0);
    // −0.05·ln 0.5 + −0.03·ln 0.7 + −0.01·ln 0.9 + 0 + 0.01·ln 1.1 + 3·0.02·ln 1.2 + 2·0.01·ln 1.1 = 0.0578...
    expect(byHand).toBeCloseTo(0.05 * Math.LN2 + 0.03 * -Math.log(0.7) + 0.01 * -Math.log(0.9) + 0.03 * Math.log(1.1) + 0.06 * Math.log(1.2), 14);
    const rows = (shares: number[]) => shares.flatMap((s, i) => Array.from({ length: Math.round(s * 1000) }, () => `band${i}`));
    expect(categoricalPsi(rows(ref), rows(cur))).toBeCloseTo(byHand, 12);
    expect(runDriftTest('psi', categorical(rows(ref)), categorical(rows(cur))).score).toBeCloseTo(byHand, 12);
  });
});

describe('stated results on degenerate samples', () => {
  it('an empty sample (or one of missing values only) gives no score and no drift, with a note', () => {
    for (const name of ['psi', 'ks', 'wasserstein', 'chisquare', 'jensenshannon', 'linf'] as const) {
      const type = DRIFT_TESTS[name].allowedFeatureTypes[0]!;
      const empty: FeatureCounts = type === 'numeric' ? numeric([NaN, NaN]) : categorical([null]);
      const full: FeatureCounts = type === 'numeric' ? numeric([1, 2, 3]) : categorical(['a', 'b']);
      const result = runDriftTest(name, full, empty);
      expect(result).toMatchObject({ method: name, score: null, drifted: false, note: 'no values in the current sample' });
    }
  });

  it('constant columns: equal constants do not drift, different ones do', () => {
    const same = runDriftTest('wasserstein', numeric([5, 5, 5]), numeric([5, 5]));
    expect(same).toMatchObject({ score: 0, drifted: false });
    // The reference's standard deviation is 0: the distance is divided by 0.001 (Evidently's floor).
    const moved = runDriftTest('wasserstein', numeric([5, 5, 5]), numeric([5.01, 5.01]));
    expect(moved.score).toBeCloseTo(10, 9);
    expect(moved.drifted).toBe(true);
    expect(runDriftTest('ks', numeric([5, 5, 5]), numeric([5, 5]))).toMatchObject({ score: 0, pValue: 1, drifted: false });
    expect(runDriftTest('ks', numeric(Array(50).fill(5)), numeric(Array(50).fill(6)))).toMatchObject({ score: 1, drifted: true });
  });

  it('a single category: chi-square statistic 0 and p-value 1, distances 0', () => {
    expect(runDriftTest('chisquare', categorical(['a', 'a']), categorical(['a']))).toMatchObject({ score: 0, pValue: 1, drifted: false, note: 'a single category: nothing can have moved' });
    expect(runDriftTest('jensenshannon', categorical(['a', 'a']), categorical(['a'])).score).toBe(0);
    expect(runDriftTest('linf', categorical(['a', 'a']), categorical(['a'])).score).toBe(0);
  });

  it('NaN and ±Infinity are missing values: left out of the distribution tests', () => {
    const clean = runDriftTest('ks', numeric(xa.slice(0, 300)), numeric(ya.slice(0, 200)));
    const dirty = runDriftTest('ks', numeric([...xa.slice(0, 300), NaN, Infinity]), numeric([...ya.slice(0, 200), -Infinity]));
    expect(dirty).toEqual(clean);
  });
});

describe('the registry', () => {
  it('describes each test as data and names the known tests for an unknown one', () => {
    expect(DRIFT_TESTS.wasserstein).toMatchObject({ name: 'wasserstein', allowedFeatureTypes: ['numeric'], defaultThreshold: 0.1, scoreKind: 'distance' });
    expect(DRIFT_TESTS.ks).toMatchObject({ defaultThreshold: 0.05, scoreKind: 'p_value' });
    expect(() => driftTest('xyz')).toThrow("unknown drift test 'xyz'; known: psi, ks, wasserstein, chisquare, jensenshannon, linf");
    expect(() => runDriftTest('ks', categorical(['a']), categorical(['b']))).toThrow("drift test 'ks' does not take categorical features; it takes numeric");
  });

  it('chooses by type and the smaller sample’s size as Evidently does by the reference’s: p-values up to 1000 rows, distances above', () => {
    expect(chooseDriftTest('numeric', 1000, 6)).toBe('ks');
    expect(chooseDriftTest('numeric', 1000, 5)).toBe('chisquare');
    expect(chooseDriftTest('categorical', 999, 50)).toBe('chisquare');
    expect(chooseDriftTest('numeric', 1001, 6)).toBe('wasserstein');
    expect(chooseDriftTest('numeric', 1001, 5)).toBe('jensenshannon');
    expect(chooseDriftTest('categorical', 100_000, 300)).toBe('jensenshannon');
  });

  it('every result carries method, threshold, score, the p-value where the test has one, and the verdict', () => {
    const ks = runDriftTest('ks', numeric(x), numeric(y));
    expect(ks).toEqual({ method: 'ks', threshold: 0.05, score: 0.1925, pValue: ks.pValue, drifted: true });
    const w = runDriftTest('wasserstein', numeric(xa), numeric(ya), 0.6);
    expect(w).toEqual({ method: 'wasserstein', threshold: 0.6, score: w.score, drifted: false });
  });
});
