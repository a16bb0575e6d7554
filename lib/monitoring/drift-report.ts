import type { FeatureSpec } from '../spec/model-spec';
import type { DriftTestName, MonitoringSpec } from '../spec/monitoring-spec';
import { chooseDriftTest, distinctValues, DRIFT_TESTS, runDriftTest, type DriftTestResult } from '../stats/drift-tests';
import { sharedNumericBins } from '../stats/histogram-bins';
import { alignCategorical, alignNumeric, total, type FeatureCounts } from '../stats/value-counts';

/**
 * What one drift monitor pass found, as stored in drift_reports.report and rendered to HTML: each
 * feature's test against the champion's training data, for the prediction log's window (the
 * features as the gateway logged them) and for partitions ingested in the window; schema drift;
 * the predicted class mix and the label mix; accuracy realized on the labels that arrived and
 * estimated (CBPE) for all of the window's predictions. Plain JSON (no NaN: a number that cannot
 * be computed is null).
 */
export type DriftSource = 'requests' | 'ingested';

export interface SampleSummary {
  rows: number;
  missing: number;
  distinct: number;
}

/** Reference and current shares over shared bins, for the report's histograms (at most ~30 bins). */
export interface DisplayHistogram {
  labels: string[];
  reference: number[];
  current: number[];
}

export interface FeatureDrift {
  feature: string;
  kind: FeatureSpec['kind'];
  source: DriftSource;
  /** How the test was chosen: named for this feature in the spec, the spec's one method, or automatically (chooseDriftTest). */
  choice: 'feature' | 'method' | 'auto';
  result: DriftTestResult;
  reference: SampleSummary;
  current: SampleSummary;
  histogram: DisplayHistogram;
}

export interface SchemaChange {
  source: DriftSource;
  column: string;
  change: 'missing' | 'new' | 'retyped' | 'missing_values';
  /** e.g. "number in 100% of rows" or "BIGINT". */
  reference: string | null;
  current: string | null;
}

/** A class mix (predicted classes or labels) against its reference: shares of classes 0..K-1 and a categorical test. */
export interface ClassMixDrift {
  classes: number;
  reference: { rows: number; shares: number[] };
  current: { rows: number; shares: number[] };
  result: DriftTestResult;
}

export interface PerformanceEstimate {
  /** Window predictions of the champion, with a label that arrived, and still without one. */
  predictions: number;
  labelled: number;
  pending: number;
  /** Accuracy on the labels that arrived; null without labels. */
  realized: number | null;
  /** CBPE over all of the window's predictions, and over the labelled ones only (what `realized` should be close to). */
  estimated: number | null;
  estimatedOnLabelled: number | null;
  /** What the probabilities were calibrated on: the champion's held-out evaluation day; null: not calibrated (raw probabilities). */
  calibration: { datasetId: string; day: string; rows: number; accuracy: number } | null;
}

export interface DriftReportBody {
  model: string;
  champion: { id: string; version: number } | null;
  window: { start: string; end: string };
  status: 'ok' | 'insufficient_data' | 'no_champion';
  message: string;
  requests: number;
  reference: { datasets: Array<{ id: string; day: string }>; rows: number };
  features: FeatureDrift[];
  ingested: { datasets: Array<{ id: string; day: string }>; rows: number; features: FeatureDrift[]; label: ClassMixDrift | null } | null;
  schema: SchemaChange[];
  prediction: ClassMixDrift | null;
  label: ClassMixDrift | null;
  performance: PerformanceEstimate | null;
  summary: DriftSummary;
  /** Where the pass spent its time, in milliseconds. */
  timings: Record<string, number>;
}

export interface DriftSummary {
  /** Features tested in at least one source, and those drifted in at least one. */
  tested: string[];
  drifted: string[];
  share: number;
}

/** The test a feature gets: the spec's test for it, else the spec's one method, else the automatic choice. */
export function testFor(feature: FeatureSpec, reference: FeatureCounts, current: FeatureCounts, tests: MonitoringSpec['tests']): { name: DriftTestName; choice: FeatureDrift['choice'] } {
  const named = tests.features[feature.name];
  if (named) return { name: named, choice: 'feature' };
  if (tests.method !== 'auto') return { name: tests.method, choice: 'method' };
  return { name: chooseDriftTest(feature.kind, Math.min(total(reference.counts), total(current.counts)), distinctValues(reference, current)), choice: 'auto' };
}

/** Every feature's test between two samples; features without counts in either are skipped. */
export function compareFeatures(
  source: DriftSource,
  features: readonly FeatureSpec[],
  reference: Readonly<Record<string, FeatureCounts>>,
  current: Readonly<Record<string, FeatureCounts>>,
  tests: MonitoringSpec['tests'],
): FeatureDrift[] {
  const out: FeatureDrift[] = [];
  for (const feature of features) {
    const ref = reference[feature.name];
    const cur = current[feature.name];
    if (!ref || !cur) continue;
    const { name, choice } = testFor(feature, ref, cur, tests);
    const result = runDriftTest(name, ref, cur, tests.thresholds[name] ?? DRIFT_TESTS[name].defaultThreshold);
    out.push({ feature: feature.name, kind: feature.kind, source, choice, result, reference: summarize(ref), current: summarize(cur), histogram: displayHistogram(ref, cur) });
  }
  return out;
}

/** Class counts (index = class) as a categorical test: chi-square when a sample has at most 1000 rows, Jensen–Shannon above (the automatic rule). */
export function classMixDrift(reference: readonly number[], current: readonly number[], tests: MonitoringSpec['tests']): ClassMixDrift | null {
  const classes = Math.max(reference.length, current.length, 2);
  const pad = (counts: readonly number[]) => Array.from({ length: classes }, (_, k) => counts[k] ?? 0);
  const ref = pad(reference);
  const cur = pad(current);
  const refRows = ref.reduce((s, c) => s + c, 0);
  const curRows = cur.reduce((s, c) => s + c, 0);
  if (refRows === 0 || curRows === 0) return null;
  const asCounts = (counts: number[]): FeatureCounts => ({ kind: 'categorical', categories: counts.map((_, k) => String(k)), counts: Float64Array.from(counts), missing: 0 });
  const name = chooseDriftTest('categorical', Math.min(refRows, curRows), classes);
  return {
    classes,
    reference: { rows: refRows, shares: ref.map((c) => c / refRows) },
    current: { rows: curRows, shares: cur.map((c) => c / curRows) },
    result: runDriftTest(name, asCounts(ref), asCounts(cur), tests.thresholds[name] ?? DRIFT_TESTS[name].defaultThreshold),
  };
}

export function summarizeDrift(results: readonly FeatureDrift[]): DriftSummary {
  const tested = new Set<string>();
  const drifted = new Set<string>();
  for (const r of results) {
    if (r.result.score === null) continue;
    tested.add(r.feature);
    if (r.result.drifted) drifted.add(r.feature);
  }
  return { tested: [...tested], drifted: [...drifted], share: tested.size === 0 ? 0 : drifted.size / tested.size };
}

function summarize(counts: FeatureCounts): SampleSummary {
  return { rows: total(counts.counts) + counts.missing, missing: counts.missing, distinct: counts.counts.length };
}

const MAX_DISPLAY_CATEGORIES = 15;

/** Shares over the bins the report draws: the binned tests' bins for numbers, the most frequent categories (and "other") for categories. */
export function displayHistogram(reference: FeatureCounts, current: FeatureCounts): DisplayHistogram {
  if (reference.kind === 'numeric' && current.kind === 'numeric') {
    const aligned = alignNumeric(reference, current);
    const bins = sharedNumericBins(aligned);
    const labels = bins.edges ? Array.from({ length: bins.edges.length - 1 }, (_, k) => `${round(bins.edges![k]!)}–${round(bins.edges![k + 1]!)}`) : Array.from(aligned.values, (v) => String(round(v)));
    return { labels, reference: shares(bins.reference), current: shares(bins.current) };
  }
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    const aligned = alignCategorical(reference, current);
    const order = aligned.categories.map((_, k) => k).sort((a, b) => aligned.reference[b]! + aligned.current[b]! - (aligned.reference[a]! + aligned.current[a]!));
    const top = order.slice(0, MAX_DISPLAY_CATEGORIES);
    const rest = order.slice(MAX_DISPLAY_CATEGORIES);
    const pick = (counts: Float64Array) => [...top.map((k) => counts[k]!), ...(rest.length > 0 ? [rest.reduce((s, k) => s + counts[k]!, 0)] : [])];
    return { labels: [...top.map((k) => aligned.categories[k]!), ...(rest.length > 0 ? [`other (${rest.length})`] : [])], reference: shares(pick(aligned.reference)), current: shares(pick(aligned.current)) };
  }
  throw new Error('reference and current samples must be of one feature type');
}

function shares(counts: ArrayLike<number>): number[] {
  const sum = total(counts);
  return Array.from(counts, (c) => (sum === 0 ? 0 : c / sum));
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
