import { describe, expect, it } from 'vitest';
import { EvaluationSpec } from '../../lib/spec/model-spec';
import { computeOfflineEvaluation } from '../../lib/stats/evaluation-summary';
import { evaluateBinaryClassifier, METRIC_NAMES } from '../../lib/stats/metrics';
import { mulberry32 } from '../../lib/stats/seeded-random';
import { pairedBootstrap } from '../../lib/stats/paired-bootstrap';

function holdout(n: number) {
  const random = mulberry32(21);
  const labels = new Uint8Array(n);
  const candidate = new Float64Array(n);
  const champion = new Float64Array(n);
  const origin: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const x = random() * 4 - 2;
    labels[i] = random() < 1 / (1 + Math.exp(-x)) ? 1 : 0;
    candidate[i] = 1 / (1 + Math.exp(-(x + 0.5 * (random() - 0.5))));
    champion[i] = 1 / (1 + Math.exp(-(0.8 * x + random() - 0.5)));
    origin.push(i % 10 === 0 ? null : ['ATL', 'ORD', 'ORD', 'SFO'][i % 4]!);
  }
  return { labels, candidate, champion, origin };
}

const spec = EvaluationSpec.parse({ slices: [{ name: 'origin', top: 2 }], bootstrapSamples: 100, seed: 5 });

describe('computeOfflineEvaluation', () => {
  const { labels, candidate, champion, origin } = holdout(1500);
  const base = { model: 'flight-delay', holdoutDay: '2024-03-15', candidateVersion: 8, labels, candidateScores: candidate, sliceKeys: { origin }, spec };

  it('summarizes both models, the bootstrap deltas and the slices on the same holdout', () => {
    const { summary, curves } = computeOfflineEvaluation({ ...base, championVersion: 7, championScores: champion });
    expect(summary).toMatchObject({ model: 'flight-delay', holdoutDay: '2024-03-15', rows: 1500, candidateVersion: 8, championVersion: 7, confidence: 0.95, bootstrapSamples: 100 });
    expect(summary.candidate).toEqual(evaluateBinaryClassifier(labels, candidate));
    expect(summary.champion).toEqual(evaluateBinaryClassifier(labels, champion));
    const bootstrap = pairedBootstrap({ labels, candidateScores: candidate, championScores: champion, samples: 100, confidence: 0.95, seed: 5 });
    for (const name of METRIC_NAMES) {
      expect(summary.deltas![name]).toEqual({ delta: bootstrap[name].delta, low: bootstrap[name].low, high: bootstrap[name].high });
    }
    expect(summary.slices.map((s) => [s.family, s.value, s.rows])).toEqual([
      ['origin', 'ORD', 675],
      ['origin', 'SFO', 375], // ATL has 300: every 10th row (no origin) falls on ATL or ORD
    ]);
    expect(summary.slices[0]!.deltas!.auc.low).toBeLessThanOrEqual(summary.slices[0]!.deltas!.auc.high);
    expect(curves.candidate.roc.length).toBeGreaterThan(10);
    expect(curves.champion!.calibration).toHaveLength(10);
  });

  it('has no champion metrics, deltas or curves without a champion', () => {
    const { summary, curves } = computeOfflineEvaluation(base);
    expect(summary).toMatchObject({ championVersion: null, champion: null, deltas: null });
    expect(summary.slices.every((s) => s.champion === null && s.deltas === null)).toBe(true);
    expect(curves.champion).toBeNull();
  });

  it('is deterministic and keeps its shape through JSON, with NaN as null', () => {
    const run = () => computeOfflineEvaluation({ ...base, championVersion: 7, championScores: champion });
    expect(run()).toEqual(run());
    const oneClass = computeOfflineEvaluation({ ...base, labels: new Uint8Array(1500), championVersion: 7, championScores: champion }).summary;
    const stored = JSON.parse(JSON.stringify(oneClass));
    expect(stored.candidate.auc).toBeNull();
    expect(stored.deltas.auc).toEqual({ delta: null, low: null, high: null });
    expect(stored.candidate.logLoss).toBeCloseTo(oneClass.candidate.logLoss, 12);
  });

  it('requires champion scores and version together and one score per row', () => {
    expect(() => computeOfflineEvaluation({ ...base, championVersion: 7 })).toThrow('championScores and championVersion go together');
    expect(() => computeOfflineEvaluation({ ...base, championScores: champion })).toThrow('championScores and championVersion go together');
    expect(() => computeOfflineEvaluation({ ...base, candidateScores: candidate.subarray(1) })).toThrow('candidate has 1499 scores for 1500 holdout rows');
  });
});
