/**
 * Paired bootstrap of metric differences between two models scored on the same rows.
 * Each replicate draws n row indices with replacement once and scores BOTH models on that
 * resample, so the interval reflects the uncertainty of the difference, not of each metric
 * alone (the models' errors on the same rows are correlated). The interval is the percentile
 * interval of the replicate differences at the given confidence (quantiles as in ./quantile).
 *
 * @example
 *   const diff = pairedBootstrap({ labels, candidateScores, championScores, samples: 300, confidence: 0.95, seed: 7 });
 *   diff.auc // { candidate: 0.71, champion: 0.70, delta: 0.01, low: 0.004, high: 0.016, replicates: 300 }
 */
import type { MetricName } from '../spec/model-spec';
import { METRICS } from './metrics';
import { quantileOfSorted } from './quantile';
import { mulberry32 } from './seeded-random';
import { prepareScores, weightedMetrics } from './weighted-classifier-metrics';

export interface PairedBootstrapInput {
  /** 0/1 labels of the rows both models were scored on. */
  labels: Uint8Array;
  candidateScores: ArrayLike<number>;
  championScores: ArrayLike<number>;
  /** Number of bootstrap replicates. */
  samples: number;
  /** Coverage of the interval, in (0, 1), e.g. 0.95. */
  confidence: number;
  /** Same seed, same rows, same scores → same interval. */
  seed: number;
}

/** One metric of two models on the same rows and the bootstrap interval of their difference. */
export interface MetricDifference {
  /** The metric on all rows (NaN when undefined, see lib/ml/metrics.ts). */
  candidate: number;
  champion: number;
  /** candidate − champion on all rows, in the metric's own direction (for log loss, negative is better). */
  delta: number;
  /** Percentile interval of the replicate differences; NaN when no replicate defined the difference. */
  low: number;
  high: number;
  /**
   * Replicates in which the difference was defined. A resample can lack a class (no AUC) or,
   * for F1, any positive; such replicates are left out, so fewer than `samples` means the
   * interval is conditional on the resample having both classes — worth a look on small slices.
   */
  replicates: number;
}

export type PairedBootstrapResult = Record<MetricName, MetricDifference>;

/** Computes every metric of lib/ml/metrics.ts for both models with a paired bootstrap interval of the difference. */
export function pairedBootstrap(input: PairedBootstrapInput): PairedBootstrapResult {
  const { labels, candidateScores, championScores, samples, confidence, seed } = input;
  const n = labels.length;
  if (candidateScores.length !== n || championScores.length !== n) {
    throw new Error(`labels and scores differ in length: ${n} labels, ${candidateScores.length} candidate scores, ${championScores.length} champion scores`);
  }
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`bootstrap samples must be a positive integer, got ${samples}`);
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be in (0, 1), got ${confidence}`);

  const replicateDeltas = Object.fromEntries(METRICS.map((m) => [m.name, new Float64Array(samples)])) as Record<MetricName, Float64Array>;
  const defined = Object.fromEntries(METRICS.map((m) => [m.name, 0])) as Record<MetricName, number>;
  if (n > 0) {
    const candidate = prepareScores(labels, candidateScores);
    const champion = prepareScores(labels, championScores);
    const random = mulberry32(seed);
    const weights = new Uint32Array(n);
    for (let r = 0; r < samples; r++) {
      weights.fill(0);
      for (let i = 0; i < n; i++) weights[Math.floor(random() * n)]!++;
      const c = weightedMetrics(candidate, weights);
      const h = weightedMetrics(champion, weights);
      for (const { name } of METRICS) {
        const d = c[name] - h[name];
        if (!Number.isNaN(d)) replicateDeltas[name][defined[name]++] = d;
      }
    }
  }

  const alpha = (1 - confidence) / 2;
  const result = {} as PairedBootstrapResult;
  for (const { name, compute } of METRICS) {
    const candidateValue = compute(labels, candidateScores);
    const championValue = compute(labels, championScores);
    const deltas = replicateDeltas[name].subarray(0, defined[name]).sort();
    result[name] = {
      candidate: candidateValue,
      champion: championValue,
      delta: candidateValue - championValue,
      low: quantileOfSorted(deltas, alpha),
      high: quantileOfSorted(deltas, 1 - alpha),
      replicates: deltas.length,
    };
  }
  return result;
}
