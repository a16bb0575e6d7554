import { chiSquareSurvival } from './chi-square-distribution';

/**
 * Pearson's chi-square test of homogeneity for two samples of categories: is the current mix of
 * categories the reference's? The 2 × K table of counts (rows: reference, current; columns: the
 * categories either sample has), expected counts from its margins, statistic Σ (O − E)² / E with
 * K − 1 degrees of freedom. As scipy.stats.chi2_contingency(table, correction=False): without
 * Yates' continuity correction, which scipy applies by default only when dof = 1 (and then the
 * test equals the two-proportion z-test, χ² = z²). Both samples are samples: a goodness-of-fit test
 * against the reference's shares (scipy.stats.chisquare, Evidently's chi-square) would treat the
 * reference as exact and give an infinite statistic for a category the reference never saw.
 *
 * Stated results: a category count of zero in both samples is dropped (it is not a column of the
 * table); a single category (dof 0) is statistic 0, p-value 1 (nothing can have moved, scipy
 * agrees); an empty sample is NaN for both.
 */
export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  dof: number;
}

export function chiSquareHomogeneity(reference: ArrayLike<number>, current: ArrayLike<number>): ChiSquareResult {
  let n1 = 0;
  let n2 = 0;
  for (let k = 0; k < reference.length; k++) {
    n1 += reference[k]!;
    n2 += current[k]!;
  }
  if (n1 === 0 || n2 === 0) return { statistic: NaN, pValue: NaN, dof: 0 };
  const n = n1 + n2;
  let statistic = 0;
  let columns = 0;
  for (let k = 0; k < reference.length; k++) {
    const column = reference[k]! + current[k]!;
    if (column === 0) continue;
    columns++;
    const e1 = (n1 * column) / n;
    const e2 = (n2 * column) / n;
    statistic += (reference[k]! - e1) ** 2 / e1 + (current[k]! - e2) ** 2 / e2;
  }
  const dof = columns - 1;
  if (dof < 1) return { statistic: 0, pValue: 1, dof: 0 };
  return { statistic, pValue: chiSquareSurvival(statistic, dof), dof };
}
