import { DRIFT_TEST_NAMES, type DriftTestName } from '../spec/monitoring-spec';
import { chiSquareHomogeneity } from './chi-square-test';
import { sharedCategoricalBins, sharedNumericBins } from './histogram-bins';
import { jensenShannonDistance } from './jensen-shannon-distance';
import { kolmogorovSmirnovFromCounts } from './kolmogorov-smirnov';
import { lInfinityDistance } from './l-infinity-distance';
import { categoricalPsiFromCounts, numericPsiFromCounts } from './population-stability-index';
import { alignCategorical, alignNumeric, numericAsCategorical, total, type CategoricalCounts, type FeatureCounts, type NumericCounts } from './value-counts';
import { normedWassersteinDistance } from './wasserstein-distance';

/**
 * The per-feature drift tests, described as data (Evidently's pattern): what each is called, which
 * feature types it takes, its default threshold and what its score means. `p_value` tests call a
 * feature drifted when the p-value is below the threshold (the score is the test statistic);
 * `distance` tests when the score is at or above it.
 */
export { DRIFT_TEST_NAMES, type DriftTestName };
export type FeatureType = 'numeric' | 'categorical';

export interface DriftTest {
  readonly name: DriftTestName;
  readonly title: string;
  readonly allowedFeatureTypes: readonly FeatureType[];
  readonly defaultThreshold: number;
  readonly scoreKind: 'p_value' | 'distance';
  /** What the score is, for reports. */
  readonly score: string;
}

export const DRIFT_TESTS: Readonly<Record<DriftTestName, DriftTest>> = Object.freeze({
  psi: {
    name: 'psi',
    title: 'Population stability index',
    allowedFeatureTypes: ['numeric', 'categorical'],
    defaultThreshold: 0.1,
    scoreKind: 'distance',
    score: 'Σ (cur − ref)·ln(cur/ref) over reference deciles (numeric) or the top 50 reference categories; < 0.1 stable, > 0.25 major shift',
  },
  ks: {
    name: 'ks',
    title: 'Kolmogorov–Smirnov',
    allowedFeatureTypes: ['numeric'],
    defaultThreshold: 0.05,
    scoreKind: 'p_value',
    score: 'sup |F_ref − F_cur|; drifted when the two-sided p-value is below the threshold',
  },
  wasserstein: {
    name: 'wasserstein',
    title: 'Wasserstein distance (normed)',
    allowedFeatureTypes: ['numeric'],
    defaultThreshold: 0.1,
    scoreKind: 'distance',
    score: 'earth mover’s distance in reference standard deviations',
  },
  chisquare: {
    name: 'chisquare',
    title: 'Chi-square',
    allowedFeatureTypes: ['categorical', 'numeric'],
    defaultThreshold: 0.05,
    scoreKind: 'p_value',
    score: 'Pearson’s χ² of the 2 × K table of counts; drifted when the p-value is below the threshold',
  },
  jensenshannon: {
    name: 'jensenshannon',
    title: 'Jensen–Shannon distance',
    allowedFeatureTypes: ['numeric', 'categorical'],
    defaultThreshold: 0.1,
    scoreKind: 'distance',
    score: 'JS distance (natural log) of the binned shares, 0 to 0.83',
  },
  linf: {
    name: 'linf',
    title: 'L-infinity distance',
    allowedFeatureTypes: ['categorical', 'numeric'],
    defaultThreshold: 0.1,
    scoreKind: 'distance',
    score: 'largest change of one category’s share',
  },
});

/** The test of this name, or an error naming the known ones. */
export function driftTest(name: string): DriftTest {
  const test = (DRIFT_TESTS as Record<string, DriftTest | undefined>)[name];
  if (!test) throw new Error(`unknown drift test '${name}'; known: ${DRIFT_TEST_NAMES.join(', ')}`);
  return test;
}

/** One test's verdict on one feature. `score` and `pValue` are null when they cannot be computed (then `note` says why). */
export interface DriftTestResult {
  method: DriftTestName;
  threshold: number;
  score: number | null;
  pValue?: number | null;
  drifted: boolean;
  note?: string;
}

/**
 * The automatic choice of a test: Evidently's rule (legacy/calculations/stattests/registry.py
 * `_get_default_stattest`), applied to the smaller of the two samples where Evidently looks at the
 * reference alone, and with chi-square where Evidently uses a z-test for two values:
 * - a sample of at most 1000 rows: numeric with more than 5 distinct values (in both samples
 *   together) → Kolmogorov–Smirnov; otherwise (categorical, or few numeric values) → chi-square;
 * - both larger: numeric with more than 5 distinct values → normed Wasserstein; otherwise →
 *   Jensen–Shannon.
 * Why: a p-value answers "could this be sampling noise?", which is the right question on small
 * samples, where distances are noisy; on large ones every test becomes significant for shifts too
 * small to matter (a p-value shrinks with n at a fixed effect), so a distance with a fixed
 * threshold, which measures how far the distribution moved whatever the sample size, decides there.
 * The smaller sample, because the monitor's current window is often the small one: a distance
 * between a 100 000-row reference and 800 requests over 300 airports is mostly the noise of the 800
 * (Jensen–Shannon 0.17 on unshifted flights, above its 0.1 threshold). For two values the 2 × 2
 * chi-square test without correction is the two-proportion z-test (χ² = z²).
 */
export const AUTO_CHOICE = Object.freeze({ maxRowsForPValueTests: 1000, maxDistinctValuesAsCategories: 5 });

export function chooseDriftTest(type: FeatureType, smallerSampleRows: number, distinctValues: number): DriftTestName {
  const few = type === 'categorical' || distinctValues <= AUTO_CHOICE.maxDistinctValuesAsCategories;
  if (smallerSampleRows <= AUTO_CHOICE.maxRowsForPValueTests) return few ? 'chisquare' : 'ks';
  return few ? 'jensenshannon' : 'wasserstein';
}

/** Distinct values of two samples together. */
export function distinctValues(reference: FeatureCounts, current: FeatureCounts): number {
  if (reference.kind === 'numeric' && current.kind === 'numeric') return alignNumeric(reference, current).values.length;
  if (reference.kind === 'categorical' && current.kind === 'categorical') return alignCategorical(reference, current).categories.length;
  throw new Error('reference and current samples must be of one feature type');
}

/** Runs one test; `threshold` defaults to the test's. The type must be one the test allows (else an error naming the allowed types). */
export function runDriftTest(name: DriftTestName, reference: FeatureCounts, current: FeatureCounts, threshold?: number): DriftTestResult {
  const test = driftTest(name);
  if (reference.kind !== current.kind) throw new Error('reference and current samples must be of one feature type');
  if (!test.allowedFeatureTypes.includes(reference.kind)) {
    throw new Error(`drift test '${name}' does not take ${reference.kind} features; it takes ${test.allowedFeatureTypes.join(', ')}`);
  }
  const limit = threshold ?? test.defaultThreshold;
  const referenceRows = total(reference.counts);
  const currentRows = total(current.counts);
  if (referenceRows === 0 || currentRows === 0) {
    const empty = referenceRows === 0 ? 'reference' : 'current';
    // Stated result: no values to compare is no verdict (the missing share is reported as schema drift).
    return { method: name, threshold: limit, score: null, ...(test.scoreKind === 'p_value' ? { pValue: null } : {}), drifted: false, note: `no values in the ${empty} sample` };
  }
  const outcome = compute(name, reference, current);
  const drifted = test.scoreKind === 'p_value' ? (outcome.pValue ?? 1) < limit : outcome.score >= limit;
  return {
    method: name,
    threshold: limit,
    score: finiteOrNull(outcome.score),
    ...(test.scoreKind === 'p_value' ? { pValue: finiteOrNull(outcome.pValue ?? NaN) } : {}),
    drifted,
    ...(outcome.note ? { note: outcome.note } : {}),
  };
}

function compute(name: DriftTestName, reference: FeatureCounts, current: FeatureCounts): { score: number; pValue?: number; note?: string } {
  const categorical = (sample: FeatureCounts): CategoricalCounts => (sample.kind === 'numeric' ? numericAsCategorical(sample) : sample);
  switch (name) {
    case 'psi':
      return {
        score: reference.kind === 'numeric' ? numericPsiFromCounts(reference, current as NumericCounts) : categoricalPsiFromCounts(reference, current as CategoricalCounts),
      };
    case 'ks': {
      const aligned = alignNumeric(reference as NumericCounts, current as NumericCounts);
      const ks = kolmogorovSmirnovFromCounts(aligned.reference, aligned.current);
      return { score: ks.statistic, pValue: ks.pValue };
    }
    case 'wasserstein': {
      const aligned = alignNumeric(reference as NumericCounts, current as NumericCounts);
      return { score: normedWassersteinDistance(aligned, reference as NumericCounts) };
    }
    case 'chisquare': {
      const aligned = alignCategorical(categorical(reference), categorical(current));
      const chi = chiSquareHomogeneity(aligned.reference, aligned.current);
      return { score: chi.statistic, pValue: chi.pValue, ...(chi.dof === 0 ? { note: 'a single category: nothing can have moved' } : {}) };
    }
    case 'jensenshannon': {
      const bins =
        reference.kind === 'numeric' ? sharedNumericBins(alignNumeric(reference, current as NumericCounts)) : sharedCategoricalBins(alignCategorical(reference, current as CategoricalCounts));
      return { score: jensenShannonDistance(bins.reference, bins.current) };
    }
    case 'linf': {
      const aligned = alignCategorical(categorical(reference), categorical(current));
      return { score: lInfinityDistance(aligned.reference, aligned.current) };
    }
  }
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
