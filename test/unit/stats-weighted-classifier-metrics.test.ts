import { describe, expect, it } from 'vitest';
import { evaluateBinaryClassifier, METRIC_NAMES } from '../../lib/stats/metrics';
import { mulberry32 } from '../../lib/stats/seeded-random';
import { prepareScores, weightedMetrics } from '../../lib/stats/weighted-classifier-metrics';

// The bootstrap scores each replicate as a weighting of the holdout rows; these tests prove a
// weighting gives exactly the metrics of the sample with rows repeated, ties and NaN included.

function expand(labels: Uint8Array, scores: number[], weights: number[]): { labels: Uint8Array; scores: number[] } {
  const outLabels: number[] = [];
  const outScores: number[] = [];
  weights.forEach((w, i) => {
    for (let k = 0; k < w; k++) {
      outLabels.push(labels[i]!);
      outScores.push(scores[i]!);
    }
  });
  return { labels: Uint8Array.from(outLabels), scores: outScores };
}

function randomData(n: number, seed: number, decimals: number) {
  const random = mulberry32(seed);
  const labels = new Uint8Array(n);
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    labels[i] = random() < 0.4 ? 1 : 0;
    scores.push(Number((0.25 * labels[i]! + 0.75 * random()).toFixed(decimals)));
  }
  return { labels, scores };
}

function expectSameMetrics(actual: Record<string, number>, expected: Record<string, number>) {
  for (const name of METRIC_NAMES) {
    if (Number.isNaN(expected[name]!)) expect(actual[name], name).toBeNaN();
    else expect(actual[name], name).toBeCloseTo(expected[name]!, 12);
  }
}

describe('weightedMetrics', () => {
  it('equals the plain metrics with unit weights', () => {
    const { labels, scores } = randomData(300, 1, 2);
    expectSameMetrics(weightedMetrics(prepareScores(labels, scores), new Uint32Array(300).fill(1)), { ...evaluateBinaryClassifier(labels, scores) });
  });

  it('equals the plain metrics of the sample with rows repeated by their weight', () => {
    for (const [seed, decimals] of [
      [2, 1],
      [3, 2],
      [4, 6],
    ] as const) {
      const { labels, scores } = randomData(200, seed, decimals);
      const random = mulberry32(seed + 100);
      const weights = scores.map(() => Math.floor(random() * 4)); // 0..3, about a quarter of rows left out
      const prepared = prepareScores(labels, scores);
      const repeated = expand(labels, scores, weights);
      expectSameMetrics(weightedMetrics(prepared, weights), { ...evaluateBinaryClassifier(repeated.labels, repeated.scores) });
    }
  });

  it('follows the NaN rules of lib/ml/metrics on the rows that have weight', () => {
    const labels = Uint8Array.from([0, 1, 1, 0]);
    const scores = [0.2, 0.8, NaN, 0.6];
    const prepared = prepareScores(labels, scores);
    // The NaN-scored row is drawn: score-based metrics are NaN, as for the repeated sample.
    expectSameMetrics(weightedMetrics(prepared, [1, 1, 1, 1]), { ...evaluateBinaryClassifier(labels, scores) });
    // Not drawn: everything is defined and equals the sample without it.
    expectSameMetrics(weightedMetrics(prepared, [2, 1, 0, 1]), { ...evaluateBinaryClassifier(Uint8Array.from([0, 0, 1, 0]), [0.2, 0.2, 0.8, 0.6]) });
    // One class drawn: no ranking metrics.
    const oneClass = weightedMetrics(prepared, [3, 0, 0, 1]);
    expect(oneClass.auc).toBeNaN();
    expect(oneClass.prAuc).toBeNaN();
    expect(oneClass.accuracy).toBeCloseTo(0.75, 12);
    // No weight at all: nothing is defined.
    for (const value of Object.values(weightedMetrics(prepared, [0, 0, 0, 0]))) expect(value).toBeNaN();
  });

  it('rejects a weight vector of the wrong length', () => {
    expect(() => weightedMetrics(prepareScores(Uint8Array.from([0, 1]), [0.1, 0.9]), [1])).toThrow('expected 2 weights, got 1');
  });
});
