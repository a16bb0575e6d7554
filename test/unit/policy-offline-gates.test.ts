import { describe, expect, it } from 'vitest';
import { EvaluationSpec, GateSpec } from '../../lib/spec/model-spec';
import { computeOfflineEvaluation, type MetricDeltas, type OfflineEvaluationSummary } from '../../lib/stats/evaluation-summary';
import type { BinaryClassifierMetrics } from '../../lib/stats/metrics';
import { syntheticHoldout } from '../fixtures/synthetic-holdout';
import { evaluateOfflineGates } from '../../lib/policy/offline-gates';

function metrics(overrides: Partial<BinaryClassifierMetrics> = {}): BinaryClassifierMetrics {
  return { rows: 1000, auc: 0.7, prAuc: 0.5, accuracy: 0.8, f1: 0.6, logLoss: 0.45, brier: 0.15, ece: 0.02, positiveRate: 0.3, ...overrides };
}

function deltas(overrides: Partial<MetricDeltas> = {}): MetricDeltas {
  const zero = { delta: 0, low: -0.001, high: 0.001 };
  return { auc: zero, prAuc: zero, accuracy: zero, f1: zero, logLoss: zero, brier: zero, ece: zero, ...overrides };
}

function summary(overrides: Partial<OfflineEvaluationSummary> = {}): OfflineEvaluationSummary {
  return {
    model: 'flight-delay',
    holdoutDay: '2024-03-15',
    rows: 1000,
    candidateVersion: 4,
    championVersion: 3,
    confidence: 0.95,
    bootstrapSamples: 300,
    candidate: metrics(),
    champion: metrics(),
    deltas: deltas(),
    slices: [],
    ...overrides,
  };
}

const gates = (input: Partial<GateSpec>) => GateSpec.parse({ minimums: {}, maxRegression: {}, ...input });

describe('evaluateOfflineGates: minimum', () => {
  it('passes a higher-is-better metric at or above its floor and fails it below', () => {
    const at = evaluateOfflineGates(summary({ candidate: metrics({ auc: 0.6 }) }), gates({ minimums: { auc: 0.6 } }));
    expect(at.passed).toBe(true);
    expect(at.results).toEqual([
      { gate: 'minimum', metric: 'auc', passed: true, value: 0.6, threshold: 0.6, higherIsBetter: true, message: 'gate minimum passed for auc: candidate 0.600 meets the minimum 0.600' },
    ]);
    const below = evaluateOfflineGates(summary({ candidate: metrics({ auc: 0.58 }) }), gates({ minimums: { auc: 0.6 } }));
    expect(below.passed).toBe(false);
    expect(below.results[0]!.message).toBe('gate minimum failed for auc: candidate 0.580 is below the minimum 0.600');
  });

  it('treats the threshold of a lower-is-better metric as a ceiling', () => {
    const result = evaluateOfflineGates(summary({ candidate: metrics({ logLoss: 0.712, ece: 0.03 }) }), gates({ minimums: { logLoss: 0.7, ece: 0.05 } }));
    expect(result.results.map((r) => [r.metric, r.passed])).toEqual([
      ['logLoss', false],
      ['ece', true],
    ]);
    expect(result.results[0]!.message).toBe('gate minimum failed for logLoss (lower is better): candidate 0.712 is above the maximum 0.700');
    expect(result.results[1]!.message).toBe('gate minimum passed for ece (lower is better): candidate 0.030 meets the maximum 0.050');
  });

  it('fails a metric that could not be computed, whether NaN or null after JSON', () => {
    for (const candidate of [metrics({ auc: NaN }), JSON.parse(JSON.stringify(metrics({ auc: NaN }))) as BinaryClassifierMetrics]) {
      const result = evaluateOfflineGates(summary({ candidate }), gates({ minimums: { auc: 0.6 } }));
      expect(result.passed).toBe(false);
      expect(result.results[0]!.message).toBe(
        "gate minimum failed for auc: the candidate's auc could not be computed (e.g. the holdout has a single class or no rows), so it cannot meet the minimum 0.600",
      );
    }
  });

  it('applies without a champion', () => {
    const result = evaluateOfflineGates(summary({ champion: null, championVersion: null, deltas: null }), gates({ minimums: { auc: 0.6 }, maxRegression: { auc: 0.01 } }));
    expect(result.results.map((r) => r.gate)).toEqual(['minimum']);
    expect(result.passed).toBe(true);
  });
});

describe('evaluateOfflineGates: maxRegression', () => {
  it('fails when the interval does not rule out a loss larger than allowed, naming the numbers', () => {
    const result = evaluateOfflineGates(
      summary({ candidate: metrics({ auc: 0.612 }), champion: metrics({ auc: 0.64 }), deltas: deltas({ auc: { delta: -0.028, low: -0.035, high: -0.021 } }) }),
      gates({ maxRegression: { auc: 0.01 } }),
    );
    expect(result.passed).toBe(false);
    expect(result.results).toEqual([
      {
        gate: 'maxRegression',
        metric: 'auc',
        passed: false,
        value: -0.028,
        threshold: -0.01,
        interval: [-0.035, -0.021],
        higherIsBetter: true,
        message: 'gate maxRegression failed for auc: candidate 0.612 vs champion 0.640, difference -0.028 (95% CI -0.035..-0.021) exceeds the allowed -0.010',
      },
    ]);
  });

  it('passes a small loss whose interval stays within the allowance (non-inferiority), including at the boundary', () => {
    const within = evaluateOfflineGates(summary({ deltas: deltas({ auc: { delta: -0.004, low: -0.009, high: 0.001 } }) }), gates({ maxRegression: { auc: 0.01 } }));
    expect(within.passed).toBe(true);
    expect(within.results[0]!.message).toBe('gate maxRegression passed for auc: candidate 0.700 vs champion 0.700, difference -0.004 (95% CI -0.009..+0.001) is within the allowed -0.010');
    const boundary = evaluateOfflineGates(summary({ deltas: deltas({ auc: { delta: -0.004, low: -0.01, high: 0.001 } }) }), gates({ maxRegression: { auc: 0.01 } }));
    expect(boundary.passed).toBe(true);
  });

  it('fails a point estimate that looks fine when the interval is too wide', () => {
    const result = evaluateOfflineGates(summary({ deltas: deltas({ auc: { delta: 0.002, low: -0.02, high: 0.024 } }) }), gates({ maxRegression: { auc: 0.01 } }));
    expect(result.passed).toBe(false);
  });

  it('orients lower-is-better metrics: the upper end of candidate − champion must stay below +allowed', () => {
    const worse = evaluateOfflineGates(
      summary({ candidate: metrics({ logLoss: 0.512 }), champion: metrics({ logLoss: 0.48 }), deltas: deltas({ logLoss: { delta: 0.032, low: 0.02, high: 0.044 } }) }),
      gates({ maxRegression: { logLoss: 0.01 } }),
    );
    expect(worse.results[0]).toMatchObject({ passed: false, threshold: 0.01, interval: [0.02, 0.044], higherIsBetter: false });
    expect(worse.results[0]!.message).toBe(
      'gate maxRegression failed for logLoss (lower is better): candidate 0.512 vs champion 0.480, difference +0.032 (95% CI +0.020..+0.044) exceeds the allowed +0.010',
    );
    const better = evaluateOfflineGates(summary({ deltas: deltas({ brier: { delta: -0.01, low: -0.02, high: 0.0 } }) }), gates({ maxRegression: { brier: 0 } }));
    expect(better.passed).toBe(true);
  });

  it('with zero allowance requires the interval to exclude any loss', () => {
    const result = evaluateOfflineGates(summary({ deltas: deltas({ auc: { delta: 0.01, low: -0.001, high: 0.02 } }) }), gates({ maxRegression: { auc: 0 } }));
    expect(result.results[0]!.message).toBe('gate maxRegression failed for auc: candidate 0.700 vs champion 0.700, difference +0.010 (95% CI -0.001..+0.020) exceeds the allowed 0.000');
  });

  it('fails when the interval could not be computed (null after JSON)', () => {
    const stored = JSON.parse(JSON.stringify(summary({ champion: metrics({ auc: NaN }), deltas: deltas({ auc: { delta: NaN, low: NaN, high: NaN } }) }))) as OfflineEvaluationSummary;
    const result = evaluateOfflineGates(stored, gates({ maxRegression: { auc: 0.01 } }));
    expect(result.passed).toBe(false);
    expect(result.results[0]!.message).toBe(
      'gate maxRegression failed for auc: the difference could not be computed (candidate 0.700 vs champion n/a; no bootstrap interval), so a regression beyond -0.010 cannot be ruled out',
    );
  });

  it('states a confidence level other than 95%', () => {
    const result = evaluateOfflineGates(summary({ confidence: 0.975 }), gates({ maxRegression: { auc: 0.01 } }));
    expect(result.results[0]!.message).toContain('(97.5% CI -0.001..+0.001)');
  });
});

describe('evaluateOfflineGates: sliceMaxRegression', () => {
  const slice = (value: string, rows: number, auc: MetricDeltas['auc']) => ({
    family: 'origin',
    value,
    rows,
    candidate: metrics({ rows, auc: 0.7 + auc.delta }),
    champion: metrics({ rows }),
    deltas: deltas({ auc }),
  });

  it('gates slices with enough rows and names the slice', () => {
    const result = evaluateOfflineGates(
      summary({
        slices: [slice('ATL', 1200, { delta: -0.05, low: -0.08, high: -0.02 }), slice('ORD', 800, { delta: 0.01, low: -0.01, high: 0.03 }), slice('SFO', 150, { delta: -0.2, low: -0.3, high: -0.1 })],
      }),
      gates({ sliceMaxRegression: { auc: 0.02 }, sliceMinRows: 200 }),
    );
    expect(result.passed).toBe(false);
    // SFO has fewer than 200 rows: too noisy to gate, so it is not applied.
    expect(result.results.map((r) => [r.gate, r.slice, r.passed])).toEqual([
      ['sliceMaxRegression', 'origin=ATL', false],
      ['sliceMaxRegression', 'origin=ORD', true],
    ]);
    expect(result.results[0]!.message).toBe(
      'gate sliceMaxRegression failed for auc on slice origin=ATL (1,200 rows): candidate 0.650 vs champion 0.700, difference -0.050 (95% CI -0.080..-0.020) exceeds the allowed -0.020',
    );
  });

  it('does not gate slices without a champion', () => {
    const result = evaluateOfflineGates(
      summary({ champion: null, championVersion: null, deltas: null, slices: [{ ...slice('ATL', 1200, { delta: 0, low: 0, high: 0 }), champion: null, deltas: null }] }),
      gates({ sliceMaxRegression: { auc: 0.02 } }),
    );
    expect(result).toEqual({ passed: true, results: [] });
  });
});

describe('evaluateOfflineGates', () => {
  it('passes with no gates configured', () => {
    expect(evaluateOfflineGates(summary(), gates({}))).toEqual({ passed: true, results: [] });
  });

  it('applies gates in registry order: minimums, then overall regressions, then slices', () => {
    const result = evaluateOfflineGates(summary({ slices: [] }), gates({ minimums: { ece: 0.1, auc: 0.5 }, maxRegression: { logLoss: 0.01, auc: 0.01 } }));
    expect(result.results.map((r) => `${r.gate}:${r.metric}`)).toEqual(['minimum:auc', 'minimum:ece', 'maxRegression:auc', 'maxRegression:logLoss']);
  });

  it('names the known metrics when a gate names an unknown one', () => {
    const bad = { ...gates({}), minimums: { rmse: 1 } } as unknown as GateSpec;
    expect(() => evaluateOfflineGates(summary(), bad)).toThrow("unknown metric 'rmse'; known: auc, prAuc, accuracy, f1, logLoss, brier, ece");
  });

  it('gives the same verdict on a computed summary before and after a JSON round trip', () => {
    const { labels, candidate, champion, origin } = syntheticHoldout({ seed: 3, rows: 2000 });
    const { summary: computed } = computeOfflineEvaluation({
      model: 'm',
      holdoutDay: '2024-01-01',
      candidateVersion: 2,
      championVersion: 1,
      labels,
      candidateScores: candidate,
      championScores: champion,
      sliceKeys: { origin },
      spec: EvaluationSpec.parse({ slices: [{ name: 'origin', top: 3 }], bootstrapSamples: 100 }),
    });
    const spec = gates({ minimums: { auc: 0.6, ece: 0.1 }, maxRegression: { auc: 0.01, logLoss: 0.01 }, sliceMaxRegression: { auc: 0.02 } });
    const direct = evaluateOfflineGates(computed, spec);
    expect(direct.results).toHaveLength(2 + 2 + 3);
    expect(direct.passed).toBe(true);
    expect(evaluateOfflineGates(JSON.parse(JSON.stringify(computed)) as OfflineEvaluationSummary, spec)).toEqual(direct);
  });
});
