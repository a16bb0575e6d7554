import { describe, expect, it } from 'vitest';
import { binaryLabel } from '../../lib/stats/decision-threshold';
import { METRICS } from '../../lib/stats/metrics';
import { mulberry32 } from '../../lib/stats/seeded-random';
import { pairedBootstrap } from '../../lib/stats/paired-bootstrap';
import { quantileOfSorted } from '../../lib/stats/quantile';

/** Two informative, correlated models on synthetic rows. */
function syntheticHoldout(n: number, seed: number) {
  const random = mulberry32(seed);
  const labels = new Uint8Array(n);
  const candidate = new Float64Array(n);
  const champion = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = random() * 4 - 2;
    labels[i] = random() < 1 / (1 + Math.exp(-1.5 * x)) ? 1 : 0;
    const shared = random() - 0.5;
    candidate[i] = 1 / (1 + Math.exp(-(1.4 * x + 0.4 * shared)));
    champion[i] = Math.round((1 / (1 + Math.exp(-(1.1 * x + 0.4 * shared + 0.6 * (random() - 0.5))))) * 100) / 100;
  }
  return { labels, candidate, champion };
}

/** The obvious implementation: materialize each resample and call the plain metric functions. */
function naiveBootstrap(labels: Uint8Array, a: ArrayLike<number>, b: ArrayLike<number>, samples: number, confidence: number, seed: number) {
  const random = mulberry32(seed);
  const n = labels.length;
  const deltas = Object.fromEntries(METRICS.map((m) => [m.name, [] as number[]]));
  for (let r = 0; r < samples; r++) {
    const counts = new Uint32Array(n);
    for (let i = 0; i < n; i++) counts[Math.floor(random() * n)]!++;
    const y: number[] = [];
    const sa: number[] = [];
    const sb: number[] = [];
    counts.forEach((c, i) => {
      for (let k = 0; k < c; k++) {
        y.push(labels[i]!);
        sa.push(a[i]!);
        sb.push(b[i]!);
      }
    });
    for (const m of METRICS) {
      const d = m.compute(Uint8Array.from(y), sa) - m.compute(Uint8Array.from(y), sb);
      if (!Number.isNaN(d)) deltas[m.name]!.push(d);
    }
  }
  const alpha = (1 - confidence) / 2;
  return Object.fromEntries(
    METRICS.map((m) => {
      const sorted = deltas[m.name]!.sort((x, y) => x - y);
      return [m.name, { low: quantileOfSorted(sorted, alpha), high: quantileOfSorted(sorted, 1 - alpha), replicates: sorted.length }];
    }),
  );
}

describe('pairedBootstrap', () => {
  it('matches a naive bootstrap that resamples rows explicitly, for every metric', () => {
    const { labels, candidate, champion } = syntheticHoldout(60, 11);
    const fast = pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 200, confidence: 0.9, seed: 5 });
    const naive = naiveBootstrap(labels, candidate, champion, 200, 0.9, 5);
    for (const m of METRICS) {
      expect(fast[m.name].low, m.name).toBeCloseTo(naive[m.name]!.low, 10);
      expect(fast[m.name].high, m.name).toBeCloseTo(naive[m.name]!.high, 10);
      expect(fast[m.name].replicates, m.name).toBe(naive[m.name]!.replicates);
    }
  });

  it('reports full-sample values and their difference next to the interval', () => {
    const labels = Uint8Array.from([0, 0, 1, 1]);
    const result = pairedBootstrap({ labels, candidateScores: [0.1, 0.4, 0.35, 0.8], championScores: [0.1, 0.2, 0.3, 0.4], samples: 50, confidence: 0.95, seed: 1 });
    expect(result.auc.candidate).toBeCloseTo(0.75, 12);
    expect(result.auc.champion).toBe(1);
    expect(result.auc.delta).toBeCloseTo(-0.25, 12);
    expect(result.accuracy.delta).toBeCloseTo(0.75 - 0.5, 12);
  });

  it('is pinned to known values on a small input', () => {
    // Regression pin: computed once and checked against naiveBootstrap above; a change here
    // means the resampling stream or the percentile rule changed.
    const labels = Uint8Array.from([0, 1, 0, 1, 1, 0, 0, 1, 0, 1]);
    const candidate = [0.1, 0.9, 0.3, 0.7, 0.6, 0.4, 0.2, 0.8, 0.55, 0.45];
    const champion = [0.2, 0.6, 0.4, 0.5, 0.7, 0.5, 0.3, 0.6, 0.5, 0.4];
    const result = pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 100, confidence: 0.95, seed: 42 });
    const naive = naiveBootstrap(labels, candidate, champion, 100, 0.95, 42);
    // AUC by hand: the candidate misorders 1 of 25 pairs (0.45 < 0.55); the champion scores 21.5 of 25.
    expect(result.auc).toMatchObject({ candidate: 0.96, champion: 0.86, replicates: 100 });
    expect(result.auc.delta).toBeCloseTo(0.1, 12);
    expect(result.auc.low).toBeCloseTo(PINNED.aucLow, 10);
    expect(result.auc.high).toBeCloseTo(PINNED.aucHigh, 10);
    expect(result.brier.low).toBeCloseTo(PINNED.brierLow, 10);
    expect(result.brier.high).toBeCloseTo(PINNED.brierHigh, 10);
    expect(result.auc.low).toBeCloseTo(naive.auc!.low, 10);
    expect(result.brier.high).toBeCloseTo(naive.brier!.high, 10);
  });

  it('gives the interval [0, 0] for every metric when both models score identically', () => {
    const { labels, candidate } = syntheticHoldout(500, 2);
    const result = pairedBootstrap({ labels, candidateScores: candidate, championScores: candidate, samples: 100, confidence: 0.95, seed: 3 });
    for (const m of METRICS) expect([result[m.name].delta, result[m.name].low, result[m.name].high], m.name).toEqual([0, 0, 0]);
  });

  it('is deterministic for a seed and changes with the seed', () => {
    const { labels, candidate, champion } = syntheticHoldout(400, 4);
    const run = (seed: number) => pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 100, confidence: 0.95, seed });
    expect(run(9)).toEqual(run(9));
    expect(run(9).auc.low).not.toBe(run(10).auc.low);
  });

  it('widens with the confidence level and contains the full-sample difference', () => {
    const { labels, candidate, champion } = syntheticHoldout(2000, 5);
    const at = (confidence: number) => pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 400, confidence, seed: 1 });
    const narrow = at(0.8);
    const wide = at(0.99);
    for (const m of METRICS) {
      expect(wide[m.name].low, m.name).toBeLessThan(narrow[m.name].low);
      expect(wide[m.name].high, m.name).toBeGreaterThan(narrow[m.name].high);
      expect(wide[m.name].delta, m.name).toBeGreaterThanOrEqual(wide[m.name].low);
      expect(wide[m.name].delta, m.name).toBeLessThanOrEqual(wide[m.name].high);
    }
  });

  it('has the normal-theory width for a difference of accuracies', () => {
    // Accuracy difference is a mean of per-row differences d_i ∈ {-1, 0, 1}, so its standard
    // error is sd(d)/√n and the 95% interval should be close to delta ± 1.96·se.
    const { labels, candidate, champion } = syntheticHoldout(4000, 6);
    const result = pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 1000, confidence: 0.95, seed: 2 });
    const d = Array.from(labels, (y, i) => Number(binaryLabel(candidate[i]!) === y) - Number(binaryLabel(champion[i]!) === y));
    const mean = d.reduce((s, x) => s + x, 0) / d.length;
    const se = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1) / d.length);
    expect(result.accuracy.delta).toBeCloseTo(mean, 12);
    expect(result.accuracy.low).toBeCloseTo(mean - 1.96 * se, 3);
    expect(result.accuracy.high).toBeCloseTo(mean + 1.96 * se, 3);
  });

  it('covers the true difference about as often as its confidence level says', () => {
    // 200 holdouts from a population where the candidate is right 75% of the time and the
    // champion 70% (independently): the true accuracy difference is 0.05.
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const random = mulberry32(1000 + t);
      const n = 300;
      const labels = new Uint8Array(n);
      const candidate = new Float64Array(n);
      const champion = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        labels[i] = random() < 0.5 ? 1 : 0;
        const right = (p: number) => (random() < p ? labels[i]! : 1 - labels[i]!);
        candidate[i] = right(0.75) === 1 ? 0.8 : 0.2;
        champion[i] = right(0.7) === 1 ? 0.8 : 0.2;
      }
      const { accuracy } = pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 200, confidence: 0.9, seed: t });
      if (accuracy.low <= 0.05 && 0.05 <= accuracy.high) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.82);
    expect(covered / trials).toBeLessThan(0.97);
  });

  it('leaves out replicates where a metric is undefined and says how many remain', () => {
    const labels = Uint8Array.from([0, 1, 0, 1]);
    const result = pairedBootstrap({ labels, candidateScores: [0.2, 0.9, 0.4, 0.6], championScores: [0.3, 0.7, 0.6, 0.4], samples: 300, confidence: 0.95, seed: 8 });
    // A resample of 4 rows has one class with probability 2·(1/2)^4 = 1/8.
    expect(result.auc.replicates).toBeLessThan(300);
    expect(result.auc.replicates).toBeGreaterThan(230);
    expect(result.accuracy.replicates).toBe(300);
  });

  it('returns NaN intervals on no rows', () => {
    const result = pairedBootstrap({ labels: new Uint8Array(0), candidateScores: [], championScores: [], samples: 10, confidence: 0.95, seed: 1 });
    expect(result.auc).toEqual({ candidate: NaN, champion: NaN, delta: NaN, low: NaN, high: NaN, replicates: 0 });
  });

  it('rejects mismatched lengths and invalid parameters with the offending values', () => {
    const labels = Uint8Array.from([0, 1]);
    expect(() => pairedBootstrap({ labels, candidateScores: [0.1], championScores: [0.1, 0.2], samples: 10, confidence: 0.95, seed: 1 })).toThrow('2 labels, 1 candidate scores, 2 champion scores');
    expect(() => pairedBootstrap({ labels, candidateScores: [0.1, 0.2], championScores: [0.1, 0.2], samples: 0, confidence: 0.95, seed: 1 })).toThrow('positive integer, got 0');
    expect(() => pairedBootstrap({ labels, candidateScores: [0.1, 0.2], championScores: [0.1, 0.2], samples: 10, confidence: 95, seed: 1 })).toThrow('(0, 1), got 95');
  });

  it('handles 17k rows × 300 replicates × 7 metrics in a few seconds', () => {
    // The budget on a shared 2-core machine; this takes ~0.3 s when the machine is idle.
    const { labels, candidate, champion } = syntheticHoldout(17_000, 7);
    const started = performance.now();
    pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 300, confidence: 0.95, seed: 7 });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

const PINNED = { aucLow: 0, aucHigh: 0.334375, brierLow: -0.0953875, brierHigh: -0.01880625 };
