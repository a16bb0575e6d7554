/**
 * Offline gates on an evaluation summary: absolute minimums, and non-inferiority against
 * the champion overall and per slice using the paired bootstrap intervals.
 * Pure and deterministic (no I/O, no Node APIs), so workflows call it directly.
 */
import type { GateSpec, MetricName } from '../spec/model-spec';
import { formatConfidence, formatCount, formatDifference as signed, formatMetric as f3 } from '../stats/metric-format';
import type { MetricDelta, OfflineEvaluationSummary } from '../stats/evaluation-summary';
import { METRICS, metricDefinition, metricValue } from '../stats/metrics';

export type OfflineGateKind = 'minimum' | 'maxRegression' | 'sliceMaxRegression';

/** One applied gate: which gate, metric and slice, the numbers it compared and its verdict. */
export interface OfflineGateCheck {
  gate: OfflineGateKind;
  metric: MetricName;
  /** "family=value" for slice gates. */
  slice?: string;
  passed: boolean;
  /** minimum: the candidate's metric; regressions: candidate − champion (NaN/null when it could not be computed). */
  value: number;
  /**
   * minimum: the floor (ceiling for lower-is-better metrics); regressions: the allowed bound on
   * candidate − champion, −max for higher-is-better metrics and +max for lower-is-better ones.
   */
  threshold: number;
  /** Regressions: the bootstrap interval of candidate − champion. */
  interval?: [number, number];
  higherIsBetter: boolean;
  message: string;
}

export interface OfflineGatesResult {
  /** True when every applied gate passed (no gates applied also passes). */
  passed: boolean;
  results: OfflineGateCheck[];
}

/**
 * Applies the gates of a model spec to an evaluation summary:
 * - minimum: the candidate's metric ≥ threshold (≤ for logLoss, brier, ece); a metric that
 *   could not be computed (NaN/null) fails.
 * - maxRegression (only with a champion): a non-inferiority test. With the difference
 *   oriented so that positive = better, the lower end of its confidence interval must be
 *   ≥ −maxRegression, i.e. the data rule out a loss larger than allowed.
 * - sliceMaxRegression: the same per slice, for slices with at least `sliceMinRows` rows.
 * Gates are applied in metric-registry order, slices in summary order.
 */
export function evaluateOfflineGates(summary: OfflineEvaluationSummary, gates: GateSpec): OfflineGatesResult {
  const results: OfflineGateCheck[] = [];
  const ci = `${formatConfidence(summary.confidence)} CI`;

  for (const { name } of orderedMetrics(gates.minimums)) {
    results.push(minimumGate(name, metricValue(summary.candidate, name), gates.minimums[name]!));
  }
  if (summary.champion) {
    for (const { name } of orderedMetrics(gates.maxRegression)) {
      results.push(
        regressionGate({ gate: 'maxRegression', metric: name, allowed: gates.maxRegression[name]!, ci, candidate: metricValue(summary.candidate, name), champion: metricValue(summary.champion, name), delta: summary.deltas?.[name] }),
      );
    }
    for (const slice of summary.slices) {
      if (!slice.champion || slice.rows < gates.sliceMinRows) continue;
      const label = `${slice.family}=${slice.value}`;
      for (const { name } of orderedMetrics(gates.sliceMaxRegression)) {
        results.push(
          regressionGate({
            gate: 'sliceMaxRegression',
            metric: name,
            slice: label,
            rows: slice.rows,
            allowed: gates.sliceMaxRegression[name]!,
            ci,
            candidate: metricValue(slice.candidate, name),
            champion: metricValue(slice.champion, name),
            delta: slice.deltas?.[name],
          }),
        );
      }
    }
  }
  return { passed: results.every((r) => r.passed), results };
}

/** The gated metrics in registry order; an unknown metric name fails with the known ones. */
function orderedMetrics(thresholds: Partial<Record<MetricName, number>>) {
  for (const name of Object.keys(thresholds)) metricDefinition(name);
  return METRICS.filter((m) => thresholds[m.name] !== undefined);
}

function minimumGate(metric: MetricName, value: number, threshold: number): OfflineGateCheck {
  const { higherIsBetter } = metricDefinition(metric);
  const bound = higherIsBetter ? 'minimum' : 'maximum';
  const base = { gate: 'minimum' as const, metric, value, threshold, higherIsBetter };
  if (Number.isNaN(value)) {
    return { ...base, passed: false, message: `gate minimum failed for ${metric}: the candidate's ${metric} could not be computed (e.g. the holdout has a single class or no rows), so it cannot meet the ${bound} ${f3(threshold)}` };
  }
  const passed = higherIsBetter ? value >= threshold : value <= threshold;
  const comparison = passed ? `meets the ${bound}` : higherIsBetter ? 'is below the minimum' : 'is above the maximum';
  return { ...base, passed, message: `gate minimum ${passed ? 'passed' : 'failed'} for ${metric}${direction(higherIsBetter)}: candidate ${f3(value)} ${comparison} ${f3(threshold)}` };
}

function regressionGate(input: {
  gate: 'maxRegression' | 'sliceMaxRegression';
  metric: MetricName;
  slice?: string;
  rows?: number;
  allowed: number;
  ci: string;
  candidate: number;
  champion: number;
  delta: Partial<Record<keyof MetricDelta, number | null>> | undefined;
}): OfflineGateCheck {
  const { gate, metric, slice, rows, allowed, ci, candidate, champion } = input;
  const { higherIsBetter } = metricDefinition(metric);
  const value = num(input.delta?.delta);
  const low = num(input.delta?.low);
  const high = num(input.delta?.high);
  // In the metric's own direction: a loss is a negative difference for higher-is-better metrics, a positive one otherwise.
  const threshold = higherIsBetter ? -allowed : allowed;
  const where = `${metric}${slice === undefined ? '' : ` on slice ${slice} (${formatCount(rows)} rows)`}${direction(higherIsBetter)}`;
  const models = `candidate ${f3(candidate)} vs champion ${f3(champion)}`;
  const base = { gate, metric, ...(slice === undefined ? {} : { slice }), value, threshold, interval: [low, high] as [number, number], higherIsBetter };
  if (Number.isNaN(value) || Number.isNaN(low) || Number.isNaN(high)) {
    return { ...base, passed: false, message: `gate ${gate} failed for ${where}: the difference could not be computed (${models}; no bootstrap interval), so a regression beyond ${signed(threshold)} cannot be ruled out` };
  }
  const passed = higherIsBetter ? low >= threshold : high <= threshold;
  const verdict = passed ? 'is within' : 'exceeds';
  return {
    ...base,
    passed,
    message: `gate ${gate} ${passed ? 'passed' : 'failed'} for ${where}: ${models}, difference ${signed(value)} (${ci} ${signed(low)}..${signed(high)}) ${verdict} the allowed ${signed(threshold)}`,
  };
}

function direction(higherIsBetter: boolean): string {
  return higherIsBetter ? '' : ' (lower is better)';
}

function num(x: number | null | undefined): number {
  return typeof x === 'number' ? x : NaN;
}
