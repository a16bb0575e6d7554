/**
 * Agreement between annotators on nominal labels (classes 0..K-1): per-item agreement, Cohen's
 * kappa for two annotators and Fleiss' kappa for more. Pinned in test/unit/stats-annotator-
 * agreement.test.ts: Cohen's to scikit-learn's `cohen_kappa_score`, Fleiss' to the worked example
 * of Fleiss (1971) as Wikipedia's "Fleiss' kappa" article tabulates it (κ = 0.210).
 * Workflow-safe: no I/O.
 */

/**
 * Agreement of one item: the share of ordered pairs of its annotators that chose the same class,
 * Fleiss' P_i = (Σ_j n_j² − n) / (n (n − 1)) for the counts n_j per class (n = Σ n_j). 1 when all
 * agree; NaN with fewer than two annotations (agreement is undefined for one).
 */
export function itemAgreement(counts: readonly number[]): number {
  const n = counts.reduce((s, c) => s + c, 0);
  if (n < 2) return Number.NaN;
  const squares = counts.reduce((s, c) => s + c * c, 0);
  return (squares - n) / (n * (n - 1));
}

/**
 * Cohen's kappa of two annotators who labeled the same items (`a[i]` and `b[i]` are their classes
 * for item i): (p_o − p_e) / (1 − p_e), unweighted, as `sklearn.metrics.cohen_kappa_score(a, b)`.
 * NaN when there are no items or when chance agreement is 1 (both always chose one same class),
 * where scikit-learn answers NaN too (0/0).
 */
export function cohenKappa(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`cohenKappa needs the same items from both annotators: ${a.length} vs ${b.length} labels`);
  const n = a.length;
  if (n === 0) return Number.NaN;
  const classes = Math.max(...a, ...b) + 1;
  const rowTotals = new Array<number>(classes).fill(0);
  const columnTotals = new Array<number>(classes).fill(0);
  let agreed = 0;
  for (let i = 0; i < n; i++) {
    rowTotals[a[i]!]!++;
    columnTotals[b[i]!]!++;
    if (a[i] === b[i]) agreed++;
  }
  const observed = agreed / n;
  let expected = 0;
  for (let k = 0; k < classes; k++) expected += (rowTotals[k]! / n) * (columnTotals[k]! / n);
  return expected === 1 ? Number.NaN : (observed - expected) / (1 - expected);
}

/** Fleiss' kappa with its parts, for reports. */
export interface FleissKappa {
  kappa: number;
  /** Mean per-item agreement P̄ over the items used. */
  meanAgreement: number;
  /** Chance agreement P̄_e = Σ_j p_j². */
  chanceAgreement: number;
  /** Share of all ratings per class, p_j. */
  classShares: number[];
  /** Items with at least two annotations (the others carry no agreement). */
  items: number;
}

/**
 * Fleiss' kappa over items × classes counts (`counts[i][j]`: annotators who put item i in class j):
 * κ = (P̄ − P̄_e) / (1 − P̄_e). Fleiss (1971) assumes the same number of annotators per item; with
 * varying numbers, each item's P_i uses its own n_i and p_j is pooled over all ratings (the usual
 * generalisation; equal to Fleiss' with equal n). Items with fewer than two annotations are left
 * out. NaN when no item has two, or when P̄_e = 1 (every rating in one class).
 */
export function fleissKappa(counts: readonly (readonly number[])[]): FleissKappa {
  const used = counts.filter((row) => row.reduce((s, c) => s + c, 0) >= 2);
  const classes = Math.max(0, ...counts.map((row) => row.length));
  const totals = new Array<number>(classes).fill(0);
  let ratings = 0;
  let agreementSum = 0;
  for (const row of used) {
    row.forEach((c, j) => {
      totals[j]! += c;
      ratings += c;
    });
    agreementSum += itemAgreement(row);
  }
  const classShares = totals.map((t) => (ratings === 0 ? 0 : t / ratings));
  const meanAgreement = used.length === 0 ? Number.NaN : agreementSum / used.length;
  const chanceAgreement = classShares.reduce((s, p) => s + p * p, 0);
  const kappa = used.length === 0 || chanceAgreement === 1 ? Number.NaN : (meanAgreement - chanceAgreement) / (1 - chanceAgreement);
  return { kappa, meanAgreement, chanceAgreement, classShares, items: used.length };
}
