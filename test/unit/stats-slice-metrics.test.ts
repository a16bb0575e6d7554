import { describe, expect, it } from 'vitest';
import { evaluateBinaryClassifier } from '../../lib/stats/metrics';
import { computeSliceMetrics, topSliceValues } from '../../lib/stats/slice-metrics';
import { pairedBootstrap } from '../../lib/stats/paired-bootstrap';

describe('topSliceValues', () => {
  it('keeps the most frequent non-null values, ties ordered by value', () => {
    const keys = ['SFO', 'ATL', null, 'ORD', 'ATL', 'SFO', 'DEN', null, null, 'ATL'];
    expect(topSliceValues(keys, 3)).toEqual([
      { value: 'ATL', rows: 3 },
      { value: 'SFO', rows: 2 },
      { value: 'DEN', rows: 1 },
    ]);
    expect(topSliceValues(keys, 10)).toHaveLength(4);
    expect(topSliceValues([null, null], 5)).toEqual([]);
  });
});

describe('computeSliceMetrics', () => {
  const labels = Uint8Array.from([0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0]);
  const candidate = [0.2, 0.8, 0.3, 0.6, 0.7, 0.4, 0.9, 0.1, 0.45, 0.55, 0.65, 0.35];
  const champion = [0.3, 0.6, 0.4, 0.5, 0.6, 0.5, 0.7, 0.2, 0.5, 0.5, 0.6, 0.4];
  const origin = ['ATL', 'ATL', 'ATL', 'ATL', 'ORD', 'ORD', 'ORD', 'ORD', 'ORD', null, 'DEN', 'DEN'];
  const bootstrap = { samples: 50, confidence: 0.9, seed: 3 };

  it('scores each slice on its own rows for both models, families in declared order', () => {
    const slices = computeSliceMetrics({
      labels,
      candidateScores: candidate,
      championScores: champion,
      sliceKeys: { origin, hour: Array.from(labels, (_, i) => (i % 2 === 0 ? 'even' : 'odd')) },
      slices: [
        { name: 'origin', top: 2 },
        { name: 'hour', top: 5 },
      ],
      bootstrap,
    });
    expect(slices.map((s) => `${s.family}=${s.value}:${s.rows}`)).toEqual(['origin=ORD:5', 'origin=ATL:4', 'hour=even:6', 'hour=odd:6']);
    const ord = slices[0]!;
    const rows = [4, 5, 6, 7, 8];
    const sub = (values: ArrayLike<number>) => rows.map((i) => values[i]!);
    expect(ord.candidate).toEqual(evaluateBinaryClassifier(Uint8Array.from(sub(labels)), sub(candidate)));
    expect(ord.champion).toEqual(evaluateBinaryClassifier(Uint8Array.from(sub(labels)), sub(champion)));
    expect(ord.deltas!.auc.delta).toBeCloseTo(ord.candidate.auc - ord.champion!.auc, 12);
    expect(ord.deltas!.auc.replicates).toBeGreaterThan(0);
  });

  it('bootstraps each slice with its own reproducible stream', () => {
    const run = () => computeSliceMetrics({ labels, candidateScores: candidate, championScores: champion, sliceKeys: { origin }, slices: [{ name: 'origin', top: 3 }], bootstrap });
    expect(run()).toEqual(run());
    const [ord] = run();
    const sameSeedAsWhole = pairedBootstrap({
      labels: Uint8Array.from([1, 0, 1, 0, 0]),
      candidateScores: [0.7, 0.4, 0.9, 0.1, 0.45],
      championScores: [0.6, 0.5, 0.7, 0.2, 0.5],
      ...bootstrap,
    });
    expect(ord!.deltas!.brier.delta).toBeCloseTo(sameSeedAsWhole.brier.delta, 12);
  });

  it('has no champion metrics or deltas without a champion', () => {
    const [first] = computeSliceMetrics({ labels, candidateScores: candidate, sliceKeys: { origin }, slices: [{ name: 'origin', top: 1 }], bootstrap });
    expect(first).toMatchObject({ family: 'origin', value: 'ORD', rows: 5, champion: null, deltas: null });
  });

  it('names the families it has keys for when a declared family has none', () => {
    expect(() => computeSliceMetrics({ labels, candidateScores: candidate, sliceKeys: { origin }, slices: [{ name: 'carrier', top: 1 }], bootstrap })).toThrow(
      "no slice keys for slice family 'carrier'; keys were given for: origin",
    );
    expect(() => computeSliceMetrics({ labels, candidateScores: candidate, sliceKeys: { origin: origin.slice(1) }, slices: [{ name: 'origin', top: 1 }], bootstrap })).toThrow(
      "slice family 'origin' has 11 keys for 12 holdout rows",
    );
  });
});
