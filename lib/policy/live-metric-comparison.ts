/**
 * One probability metric of the candidate against the champion on live traffic, judged on an
 * interval of candidate − champion, and the message that names both values, the difference, the
 * interval and the allowance: "log loss 0.512 vs champion 0.498: +0.014 (95% CI +0.009..+0.019),
 * allowed +0.010: worse". Shared by the shadow (paired bootstrap interval, non-inferiority as
 * the offline maxRegression gates) and the canary (confidence sequence, which can also decide
 * "worse" before the interval has narrowed). Values arrive as null after JSON where they were NaN.
 */
import { formatDifference as signed, formatMetric as f3 } from '../stats/metric-format';

/** A metric of both models and the interval of their difference, as observations record it (null: could not be computed). */
export interface MetricInterval {
  candidate: number | null;
  champion: number | null;
  /** candidate − champion, in the metric's own direction. */
  delta: number | null;
  low: number | null;
  high: number | null;
}

export interface LiveMetricJudgement {
  /** 'not-worse': the interval's worse end is within the allowance; 'worse': it is not (see `worseWhen`); 'undecided': neither. */
  outcome: 'not-worse' | 'worse' | 'undecided';
  message: string;
}

export interface LiveMetricComparison {
  /** As messages name it: "log loss", "Brier score", "ROC AUC". */
  label: string;
  higherIsBetter: boolean;
  /** The allowed loss (≥ 0): a rise for lower-is-better metrics, a drop for the others. */
  allowed: number;
  /** E.g. "95% CI", "95% confidence sequence". */
  interval: string;
  /** Where the numbers come from, e.g. "on 412 labelled requests". */
  sample: string;
  /**
   * 'not-shown-within' (the shadow): anything but "not worse" is "worse", too little evidence included.
   * 'beyond-allowance' (the canary): "worse" only once the whole interval is beyond the allowance; between, "undecided".
   */
  worseWhen: 'not-shown-within' | 'beyond-allowance';
}

export function judgeLiveMetric(metric: MetricInterval, comparison: LiveMetricComparison): LiveMetricJudgement {
  const { label, higherIsBetter, allowed, interval, sample, worseWhen } = comparison;
  const bound = higherIsBetter ? -allowed : allowed;
  const head = `${label} ${f3(metric.candidate)} vs champion ${f3(metric.champion)} ${sample}`;
  const { delta, low, high } = metric;
  if (delta === null || low === null || high === null || !Number.isFinite(delta) || !Number.isFinite(low) || !Number.isFinite(high)) {
    const outcome = worseWhen === 'not-shown-within' ? 'worse' : 'undecided';
    return { outcome, message: `${head}: the difference could not be computed (e.g. the labels hold one class, or a score is not a number), so a loss beyond ${signed(bound)} cannot be ruled out` };
  }
  const worseEnd = higherIsBetter ? low : high;
  const betterEnd = higherIsBetter ? high : low;
  const within = higherIsBetter ? worseEnd >= bound : worseEnd <= bound;
  const beyond = higherIsBetter ? betterEnd < bound : betterEnd > bound;
  const outcome = within ? 'not-worse' : worseWhen === 'not-shown-within' || beyond ? 'worse' : 'undecided';
  const word = outcome === 'not-worse' ? 'not worse' : outcome === 'worse' ? 'worse' : 'undecided';
  return { outcome, message: `${head}: ${signed(delta)} (${interval} ${signed(low)}..${signed(high)}), allowed ${signed(bound)}: ${word}` };
}

/** JSON-safe: NaN and ±Infinity become null. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
