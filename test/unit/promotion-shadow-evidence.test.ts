import { describe, expect, it } from 'vitest';
import { compareScores, labelledProbabilities } from '../../lib/promotion/shadow-observation';
import { judgeShadow } from '../../lib/policy/shadow-gates';
import { ShadowSpec } from '../../lib/spec/model-spec';
import { mulberry32 } from '../../lib/stats/seeded-random';

const bootstrap = { samples: 300, confidence: 0.95, seed: 7 };

/** Labelled requests where the champion's score carries the label's signal and a shuffled-label candidate predicts about the base rate. */
function requests(n: number, seed: number) {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const z = random() * 2 - 1;
    const truth = 1 / (1 + Math.exp(-(-1.6 + 1.5 * z)));
    const label = random() < truth ? 1 : 0;
    return { label, champion: truth, candidate: 0.21 + 0.02 * (random() - 0.5) };
  });
}

describe('the shadow observation of probabilities and scores', () => {
  it('tells a shuffled-label candidate from the champion where accuracy at 0.5 ties', () => {
    const rows = requests(1500, 3);
    const probabilities = labelledProbabilities(rows, bootstrap);
    const scores = compareScores(rows.map((r) => r.champion), rows.map((r) => r.candidate));
    // Neither model reaches 0.5 on any request: the same labels, the same accuracy.
    expect(rows.every((r) => r.champion < 0.5 && r.candidate < 0.5)).toBe(true);
    expect(probabilities.rows).toBe(1500);
    expect(probabilities.logLoss.low!).toBeGreaterThan(0);
    expect(probabilities.auc.high!).toBeLessThan(-0.1);
    const verdict = judgeShadow(
      {
        requests: 1500,
        candidateErrors: 0,
        agreement: 1,
        latencyMs: { championP50: 1, championP99: 1, candidateP50: 1, candidateP99: 1 },
        labelled: { rows: 1500, championAccuracy: 0.8, candidateAccuracy: 0.8, probabilities },
        scores,
      },
      ShadowSpec.parse({}),
    );
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(expect.arrayContaining(['logLoss', 'auc', 'scoreDistribution']));
  });

  it('the champion against itself: zero differences, zero-width intervals, KS 0 with p 1', () => {
    const rows = requests(300, 4).map((r) => ({ ...r, candidate: r.champion }));
    const probabilities = labelledProbabilities(rows, bootstrap);
    for (const metric of [probabilities.logLoss, probabilities.brier, probabilities.auc]) expect(metric).toMatchObject({ delta: 0, low: 0, high: 0 });
    expect(compareScores(rows.map((r) => r.champion), rows.map((r) => r.candidate))).toEqual({ pairs: 300, meanAbsDifference: 0, p99AbsDifference: 0, ks: { statistic: 0, pValue: 1 } });
  });

  it('no labelled requests, one class only, or a NaN score: the numbers that cannot be computed are null (JSON-safe)', () => {
    const none = labelledProbabilities([], bootstrap);
    expect(none).toMatchObject({ rows: 0, logLoss: { candidate: null, delta: null, low: null, high: null }, auc: { candidate: null } });
    const oneClass = labelledProbabilities(requests(50, 5).map((r) => ({ ...r, label: 0 })), bootstrap);
    expect(oneClass.auc).toEqual({ candidate: null, champion: null, delta: null, low: null, high: null });
    expect(oneClass.logLoss.delta).not.toBeNull();
    expect(compareScores([], [])).toEqual({ pairs: 0, meanAbsDifference: null, p99AbsDifference: null, ks: { statistic: null, pValue: null } });
    expect(compareScores([0.2, NaN], [0.2, 0.3])).toEqual({ pairs: 2, meanAbsDifference: null, p99AbsDifference: null, ks: { statistic: null, pValue: null } });
  });
});
