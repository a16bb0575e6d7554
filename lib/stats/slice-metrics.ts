/**
 * Per-slice offline metrics: for each slice family (e.g. "origin"), the most frequent
 * values on the holdout each become a slice, scored for the candidate and, when there is
 * one, the champion, with paired bootstrap intervals of the differences.
 */
import type { MetricName } from '../spec/model-spec';
import { pairedBootstrap, type MetricDifference } from './paired-bootstrap';
import { evaluateBinaryClassifier, type BinaryClassifierMetrics } from './metrics';

/** A slice value and how many holdout rows carry it. */
export interface SliceValueCount {
  value: string;
  rows: number;
}

/** Metrics of one slice (one value of one family). */
export interface SliceEvaluation {
  family: string;
  value: string;
  rows: number;
  candidate: BinaryClassifierMetrics;
  champion: BinaryClassifierMetrics | null;
  /** Bootstrap intervals of candidate − champion on the slice's rows; null without a champion. */
  deltas: Record<MetricName, MetricDifference> | null;
}

export interface SliceMetricsInput {
  labels: Uint8Array;
  candidateScores: ArrayLike<number>;
  championScores?: ArrayLike<number> | null;
  /** Per family, the slice value of every holdout row (null: the row is in no slice of the family). */
  sliceKeys: Record<string, readonly (string | null)[]>;
  /** The declared families and how many of the most frequent values become slices. */
  slices: readonly { name: string; top: number }[];
  bootstrap: { samples: number; confidence: number; seed: number };
}

/**
 * The `top` most frequent non-null values, most rows first; equal counts are ordered by value
 * so the choice does not depend on row order.
 */
export function topSliceValues(keys: readonly (string | null)[], top: number): SliceValueCount[] {
  const counts = new Map<string, number>();
  for (const key of keys) if (key !== null) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts]
    .map(([value, rows]) => ({ value, rows }))
    .sort((a, b) => b.rows - a.rows || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, top);
}

/** Metrics per slice, families in declaration order and values by frequency. */
export function computeSliceMetrics(input: SliceMetricsInput): SliceEvaluation[] {
  const { labels, candidateScores, championScores, sliceKeys, slices, bootstrap } = input;
  const n = labels.length;
  const results: SliceEvaluation[] = [];
  slices.forEach((family, familyIndex) => {
    const keys = sliceKeys[family.name];
    if (!keys) {
      throw new Error(`no slice keys for slice family '${family.name}'; keys were given for: ${Object.keys(sliceKeys).join(', ') || '(none)'}`);
    }
    if (keys.length !== n) throw new Error(`slice family '${family.name}' has ${keys.length} keys for ${n} holdout rows`);
    topSliceValues(keys, family.top).forEach(({ value, rows }, valueIndex) => {
      const indices = new Uint32Array(rows);
      let k = 0;
      for (let i = 0; i < n; i++) if (keys[i] === value) indices[k++] = i;
      const sliceLabels = pick(labels, indices, Uint8Array);
      const candidate = pick(candidateScores, indices, Float64Array);
      const champion = championScores ? pick(championScores, indices, Float64Array) : null;
      results.push({
        family: family.name,
        value,
        rows,
        candidate: evaluateBinaryClassifier(sliceLabels, candidate),
        champion: champion ? evaluateBinaryClassifier(sliceLabels, champion) : null,
        deltas: champion
          ? pairedBootstrap({
              labels: sliceLabels,
              candidateScores: candidate,
              championScores: champion,
              samples: bootstrap.samples,
              confidence: bootstrap.confidence,
              // A distinct, reproducible stream per slice so slices are not resampled in lockstep.
              seed: sliceSeed(bootstrap.seed, familyIndex, valueIndex),
            })
          : null,
      });
    });
  });
  return results;
}

function pick<T extends Uint8Array | Float64Array>(values: ArrayLike<number>, indices: Uint32Array, Type: { new (n: number): T }): T {
  const out = new Type(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]!]!;
  return out;
}

function sliceSeed(seed: number, familyIndex: number, valueIndex: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 31) + Math.imul(familyIndex + 1, 0x85ebca6b) + Math.imul(valueIndex + 1, 0xc2b2ae35)) >>> 0;
}
