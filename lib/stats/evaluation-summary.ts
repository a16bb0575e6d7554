/**
 * The offline evaluation of a candidate (and the champion, when there is one) on one
 * held-out day: overall metrics, bootstrap intervals of the differences, per-slice metrics
 * and the curves of the report. The summary is what gates read and what is stored; it
 * travels as JSON, where NaN becomes null, so readers go through `metricValue`.
 */
import type { EvaluationSpec, MetricName } from '../spec/model-spec';
import { pairedBootstrap } from './paired-bootstrap';
import { modelCurves, type EvaluationCurves } from './evaluation-curves';
import { evaluateBinaryClassifier, METRICS, type BinaryClassifierMetrics } from './metrics';
import { computeSliceMetrics } from './slice-metrics';

/** candidate − champion for one metric and its paired bootstrap interval (null after JSON when undefined). */
export interface MetricDelta {
  delta: number;
  low: number;
  high: number;
}

export type MetricDeltas = Record<MetricName, MetricDelta>;

export interface SliceSummary {
  family: string;
  value: string;
  rows: number;
  candidate: BinaryClassifierMetrics;
  champion: BinaryClassifierMetrics | null;
  deltas: MetricDeltas | null;
}

export interface OfflineEvaluationSummary {
  model: string;
  /** The held-out partition (YYYY-MM-DD). */
  holdoutDay: string;
  rows: number;
  candidateVersion: number;
  championVersion: number | null;
  /** Coverage of every interval, e.g. 0.95. */
  confidence: number;
  bootstrapSamples: number;
  candidate: BinaryClassifierMetrics;
  champion: BinaryClassifierMetrics | null;
  /** Null without a champion. */
  deltas: MetricDeltas | null;
  slices: SliceSummary[];
}

export interface OfflineEvaluationInput {
  model: string;
  holdoutDay: string;
  candidateVersion: number;
  /** Required together with `championScores`. */
  championVersion?: number | null;
  labels: Uint8Array;
  candidateScores: ArrayLike<number>;
  championScores?: ArrayLike<number> | null;
  /** Per declared slice family, the slice value of every holdout row (null: in no slice). */
  sliceKeys: Record<string, readonly (string | null)[]>;
  spec: EvaluationSpec;
}

/** Scores both models on the same holdout; deterministic given `spec.seed`. */
export function computeOfflineEvaluation(input: OfflineEvaluationInput): { summary: OfflineEvaluationSummary; curves: EvaluationCurves } {
  const { labels, candidateScores, spec } = input;
  const championScores = input.championScores ?? null;
  const championVersion = input.championVersion ?? null;
  if ((championScores === null) !== (championVersion === null)) {
    throw new Error('championScores and championVersion go together: give both or neither');
  }
  const n = labels.length;
  if (candidateScores.length !== n) throw new Error(`candidate has ${candidateScores.length} scores for ${n} holdout rows`);
  if (championScores && championScores.length !== n) throw new Error(`champion has ${championScores.length} scores for ${n} holdout rows`);
  const bootstrap = { samples: spec.bootstrapSamples, confidence: spec.confidence, seed: spec.seed };

  const differences = championScores ? pairedBootstrap({ labels, candidateScores, championScores, ...bootstrap }) : null;
  const summary: OfflineEvaluationSummary = {
    model: input.model,
    holdoutDay: input.holdoutDay,
    rows: n,
    candidateVersion: input.candidateVersion,
    championVersion,
    confidence: spec.confidence,
    bootstrapSamples: spec.bootstrapSamples,
    candidate: evaluateBinaryClassifier(labels, candidateScores),
    champion: championScores ? evaluateBinaryClassifier(labels, championScores) : null,
    deltas: differences ? toDeltas(differences) : null,
    slices: computeSliceMetrics({ labels, candidateScores, championScores, sliceKeys: input.sliceKeys, slices: spec.slices, bootstrap }).map((s) => ({
      family: s.family,
      value: s.value,
      rows: s.rows,
      candidate: s.candidate,
      champion: s.champion,
      deltas: s.deltas ? toDeltas(s.deltas) : null,
    })),
  };
  const curves: EvaluationCurves = {
    candidate: modelCurves(labels, candidateScores),
    champion: championScores ? modelCurves(labels, championScores) : null,
  };
  return { summary, curves };
}

function toDeltas(differences: Record<MetricName, MetricDelta>): MetricDeltas {
  return Object.fromEntries(METRICS.map(({ name }) => [name, { delta: differences[name].delta, low: differences[name].low, high: differences[name].high }])) as MetricDeltas;
}
