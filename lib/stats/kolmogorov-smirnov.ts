/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, as scipy.stats.ks_2samp computes it: the
 * statistic D = sup |F_a(x) − F_b(x)| over the two empirical distribution functions, and the
 * probability, under "both samples come from one continuous distribution", of a D at least as large.
 *
 * The shadow uses it to compare the champion's and the candidate's predicted probabilities on
 * the same mirrored requests: D is an effect size on the scores' distribution (0: the same
 * distribution, 1: no overlap). Those two samples are not independent (the same requests), which
 * the p-value assumes, so the gate reads D; the p-value is reported for what it is.
 *
 * p-value, like ks_2samp's `method='exact'` (its default, 'auto', is exact up to 10,000 per sample):
 * - equal sizes (the shadow's case): exact for every n, scipy's `_compute_prob_outside_square`
 *   (Horner form of the alternating sum of lattice-path counts), O(n);
 * - unequal sizes m ≠ n with m·n ≤ EXACT_CELLS: exact, as the share of lattice paths from (0, 0)
 *   to (m, n) that leave the band |i/m − j/n| < D (the recurrence of scipy's
 *   `_compute_outer_prob_inside_method`, each cell normalised by its binomial coefficient), O(m·n);
 * - otherwise: Kolmogorov's limiting distribution, P(K > D·√(mn/(m+n))) (scipy.stats.kstwobign.sf).
 *   ks_2samp's 'asymp' method uses kstwo instead, which differs by O(1/√(mn/(m+n))).
 *
 * An empty sample or a NaN anywhere gives NaN for both numbers (scipy returns NaN for both too,
 * with nan_policy='propagate', its default).
 */

/** m·n up to which unequal sample sizes get the exact p-value (about 50 ms). */
export const EXACT_CELLS = 25_000_000;

export interface KolmogorovSmirnovResult {
  /** sup |F_a − F_b| in [0, 1]; NaN for an empty sample or a NaN value. */
  statistic: number;
  /** Two-sided; NaN when the statistic is. */
  pValue: number;
  /** How the p-value was computed (see the module doc). */
  method: 'exact' | 'asymptotic';
  sizes: [number, number];
}

export function twoSampleKolmogorovSmirnov(a: ArrayLike<number>, b: ArrayLike<number>): KolmogorovSmirnovResult {
  const m = a.length;
  const n = b.length;
  const sizes: [number, number] = [m, n];
  const exact = m === n || m * n <= EXACT_CELLS;
  const method = exact ? 'exact' : 'asymptotic';
  if (m === 0 || n === 0 || hasNaN(a) || hasNaN(b)) return { statistic: NaN, pValue: NaN, method, sizes };
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  const g = gcd(m, n);
  // D = max |i/m − j/n| = max |i·n − j·m| / (m·n), kept in integers: h = max |i·n − j·m| / g, D = h / lcm.
  let i = 0;
  let j = 0;
  let h = 0;
  while (i < m && j < n) {
    const value = Math.min(x[i]!, y[j]!);
    while (i < m && x[i]! <= value) i++;
    while (j < n && y[j]! <= value) j++;
    h = Math.max(h, Math.abs(i * n - j * m) / g);
  }
  return resultOf(m, n, g, h, method, sizes);
}

/**
 * The same test on two samples given as counts of each distinct value over their merged, ascending
 * values (lib/stats/value-counts.ts alignNumeric): equal to twoSampleKolmogorovSmirnov on the rows
 * those counts stand for, without the rows. The drift monitor's numeric samples come aggregated from
 * SQL this way. An empty sample gives NaN for both numbers.
 */
export function kolmogorovSmirnovFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>): KolmogorovSmirnovResult {
  let m = 0;
  let n = 0;
  for (let k = 0; k < reference.length; k++) m += reference[k]!;
  for (let k = 0; k < current.length; k++) n += current[k]!;
  const sizes: [number, number] = [m, n];
  const exact = m === n || m * n <= EXACT_CELLS;
  const method = exact ? 'exact' : 'asymptotic';
  if (m === 0 || n === 0) return { statistic: NaN, pValue: NaN, method, sizes };
  const g = gcd(m, n);
  let i = 0;
  let j = 0;
  let h = 0;
  for (let k = 0; k < reference.length; k++) {
    i += reference[k]!;
    j += current[k]!;
    h = Math.max(h, Math.abs(i * n - j * m) / g);
  }
  return resultOf(m, n, g, h, method, sizes);
}

/** D = h / lcm(m, n) and its p-value by the method chosen for the sizes. */
function resultOf(m: number, n: number, g: number, h: number, method: KolmogorovSmirnovResult['method'], sizes: [number, number]): KolmogorovSmirnovResult {
  const lcm = (m / g) * n;
  const statistic = h / lcm;
  let pValue: number;
  if (h === 0) pValue = 1;
  else if (m === n) pValue = probabilityOutsideSquare(n, h);
  else if (method === 'exact') pValue = probabilityOutsideBand(m, n, g, h);
  else pValue = kolmogorovSurvival(statistic * Math.sqrt((m * n) / (m + n)));
  return { statistic, pValue: Math.min(Math.max(pValue, 0), 1), method, sizes };
}

/**
 * P(D_{n,n} ≥ h/n): 2·(C(2n, n−h) − C(2n, n−2h) + …) / C(2n, n), each term divided by C(2n, n)
 * and the sum evaluated from the innermost term out, so there is no cancellation (scipy's form).
 */
function probabilityOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let term = 1;
    for (let step = 0; step < h; step++) term = ((n - k * h - step) * term) / (n + k * h + step + 1);
    p = term * (1 - p);
  }
  return 2 * p;
}

/**
 * 1 − (lattice paths from (0, 0) to (m, n) that stay strictly inside |i·n/g − j·m/g| < h) / C(m+n, m).
 * a(i, j), the inside paths to (i, j) over C(i+j, i), follows a(i, j) = a(i−1, j)·i/(i+j) + a(i, j−1)·j/(i+j).
 */
function probabilityOutsideBand(m: number, n: number, g: number, h: number): number {
  const mg = m / g;
  const ng = n / g;
  const inside = (i: number, j: number) => Math.abs(i * ng - j * mg) < h;
  const a = new Float64Array(n + 1);
  a[0] = 1;
  for (let j = 1; j <= n; j++) a[j] = inside(0, j) ? a[j - 1]! : 0;
  for (let i = 1; i <= m; i++) {
    if (!inside(i, 0)) a[0] = 0;
    for (let j = 1; j <= n; j++) a[j] = inside(i, j) ? (a[j]! * i + a[j - 1]! * j) / (i + j) : 0;
  }
  return 1 - a[n]!;
}

/**
 * P(K > x) for Kolmogorov's distribution (scipy.special.kolmogorov, scipy.stats.kstwobign.sf):
 * 2·Σ (−1)^(k−1) e^(−2k²x²) for larger x; for small x that series converges slowly, so
 * 1 − (√(2π)/x)·Σ e^(−(2k−1)²π²/(8x²)) instead.
 */
export function kolmogorovSurvival(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x < 1) {
    let sum = 0;
    for (let k = 1; k < 100; k++) {
      const term = Math.exp(-((2 * k - 1) ** 2) * Math.PI ** 2 / (8 * x * x));
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / x) * sum;
  }
  let sum = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-17) break;
  }
  return 2 * sum;
}

function hasNaN(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) return true;
  return false;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
