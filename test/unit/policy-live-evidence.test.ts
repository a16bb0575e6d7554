import { describe, expect, it } from 'vitest';
import { judgeCanaryStage, type CanaryLosses, type CanaryObservation } from '../../lib/policy/canary-stage-analysis';
import { judgeLiveMetric } from '../../lib/policy/live-metric-comparison';
import { judgeShadow, type LabelledProbabilities, type ShadowObservation } from '../../lib/policy/shadow-gates';
import { CANARY_LOSS_DEFAULTS, CanarySpec, resolvedCanaryLossGates, resolvedShadowGates, SHADOW_GATE_DEFAULTS, ShadowSpec } from '../../lib/spec/model-spec';
import { bernoulliSprt } from '../../lib/stats/sequential-probability-ratio-test';

const interval = (candidate: number, champion: number, low: number, high: number) => ({ candidate, champion, delta: candidate - champion, low, high });

describe('judgeLiveMetric', () => {
  const common = { interval: '95% CI', sample: 'on 412 labelled requests' };

  it('names both values, the difference, its interval and the allowance', () => {
    const logLoss = judgeLiveMetric(interval(0.512, 0.498, 0.009, 0.019), { ...common, label: 'log loss', higherIsBetter: false, allowed: 0.01, worseWhen: 'not-shown-within' });
    expect(logLoss).toEqual({ outcome: 'worse', message: 'log loss 0.512 vs champion 0.498 on 412 labelled requests: +0.014 (95% CI +0.009..+0.019), allowed +0.010: worse' });
    const auc = judgeLiveMetric(interval(0.7, 0.71, -0.02, 0.0), { ...common, label: 'ROC AUC', higherIsBetter: true, allowed: 0.03, worseWhen: 'not-shown-within' });
    expect(auc).toEqual({ outcome: 'not-worse', message: 'ROC AUC 0.700 vs champion 0.710 on 412 labelled requests: -0.010 (95% CI -0.020..0.000), allowed -0.030: not worse' });
  });

  it('on a sequence, "worse" only once the whole interval is beyond the allowance, "undecided" between', () => {
    const options = { ...common, label: 'log loss', higherIsBetter: false, allowed: 0.05, worseWhen: 'beyond-allowance' as const };
    expect(judgeLiveMetric(interval(0.5, 0.48, -0.03, 0.07), options).outcome).toBe('undecided');
    expect(judgeLiveMetric(interval(0.6, 0.48, 0.06, 0.18), options).outcome).toBe('worse');
    expect(judgeLiveMetric(interval(0.5, 0.48, -0.01, 0.05), options).outcome).toBe('not-worse');
  });

  it('a difference that could not be computed fails a non-inferiority check and leaves a sequence undecided', () => {
    const missing = { candidate: 0.5, champion: null, delta: null, low: null, high: null };
    const shadow = judgeLiveMetric(missing, { ...common, label: 'ROC AUC', higherIsBetter: true, allowed: 0.03, worseWhen: 'not-shown-within' });
    expect(shadow).toEqual({
      outcome: 'worse',
      message: 'ROC AUC 0.500 vs champion n/a on 412 labelled requests: the difference could not be computed (e.g. the labels hold one class, or a score is not a number), so a loss beyond -0.030 cannot be ruled out',
    });
    expect(judgeLiveMetric(missing, { ...common, label: 'log loss', higherIsBetter: false, allowed: 0.05, worseWhen: 'beyond-allowance' }).outcome).toBe('undecided');
  });
});

describe('judgeShadow on probabilities and scores', () => {
  const spec = ShadowSpec.parse({ minRequests: 100, minLabels: 50 });
  const probabilities: LabelledProbabilities = {
    rows: 400,
    confidence: 0.95,
    samples: 1000,
    logLoss: interval(0.47, 0.468, -0.004, 0.008),
    brier: interval(0.151, 0.15, -0.001, 0.003),
    auc: interval(0.702, 0.7, -0.01, 0.014),
  };
  const scores = { pairs: 450, meanAbsDifference: 0.012, p99AbsDifference: 0.06, ks: { statistic: 0.04, pValue: 0.41 } };
  const observed: ShadowObservation = {
    requests: 450,
    candidateErrors: 0,
    agreement: 1,
    latencyMs: { championP50: 1, championP99: 2, candidateP50: 1, candidateP99: 2 },
    labelled: { rows: 400, championAccuracy: 0.893, candidateAccuracy: 0.893, probabilities },
    scores,
  };

  it('passes a candidate whose log loss, Brier score and AUC are within their allowances and whose scores agree', () => {
    const verdict = judgeShadow(observed, spec);
    expect(verdict.passed).toBe(true);
    expect(verdict.checks.map((c) => c.name)).toEqual(['requests', 'errors', 'agreement', 'latencyP99', 'accuracy', 'logLoss', 'brier', 'auc', 'scoreAgreement', 'scoreDistribution']);
    expect(verdict.checks.find((c) => c.name === 'logLoss')?.message).toBe('log loss 0.470 vs champion 0.468 on 400 labelled requests: +0.002 (95% CI -0.004..+0.008), allowed +0.020: not worse');
    expect(verdict.checks.find((c) => c.name === 'scoreAgreement')?.message).toBe('score difference |candidate - champion| on 450 mirrored requests: mean 0.012, p99 0.060 (allowed mean 0.15)');
    expect(verdict.checks.find((c) => c.name === 'scoreDistribution')?.message).toBe(
      "score distributions: Kolmogorov-Smirnov statistic 0.040 (p 0.41) between the candidate's and the champion's probabilities on 450 mirrored requests (allowed 0.3)",
    );
  });

  it('rejects a candidate that ties on accuracy at 0.5 but has worse probabilities (a model trained on shuffled labels)', () => {
    const shuffled: ShadowObservation = {
      ...observed,
      labelled: {
        ...observed.labelled,
        probabilities: { ...probabilities, logLoss: interval(0.52, 0.468, 0.03, 0.075), brier: interval(0.163, 0.15, 0.006, 0.02), auc: interval(0.51, 0.7, -0.24, -0.14) },
      },
      // Scores that differ by no more than a retrain's, on average (0.087 in the integration run), but are distributed otherwise.
      scores: { pairs: 450, meanAbsDifference: 0.087, p99AbsDifference: 0.34, ks: { statistic: 0.43, pValue: 2.5e-56 } },
    };
    const verdict = judgeShadow(shuffled, spec);
    expect(verdict.passed).toBe(false);
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['logLoss', 'brier', 'auc', 'scoreDistribution']);
    expect(verdict.checks.find((c) => c.name === 'accuracy')?.passed).toBe(true);
    expect(verdict.reason).toMatch(/^shadow failed: log loss 0\.520 vs champion 0\.468 on 400 labelled requests: \+0\.052 \(95% CI \+0\.030\.\.\+0\.075\), allowed \+0\.020: worse; /);
    expect(verdict.reason).toContain('ROC AUC 0.510 vs champion 0.700 on 400 labelled requests: -0.190 (95% CI -0.240..-0.140), allowed -0.050: worse');
    expect(verdict.reason).toContain('Kolmogorov-Smirnov statistic 0.430 (p 2.5e-56)');
  });

  it('fails a probability check when too few labels tell the models apart: non-inferiority needs evidence', () => {
    const wide = { ...observed, labelled: { ...observed.labelled, probabilities: { ...probabilities, auc: interval(0.7, 0.7, -0.06, 0.06) } } };
    expect(judgeShadow(wide, spec).checks.find((c) => c.name === 'auc')).toMatchObject({ passed: false, message: expect.stringMatching(/allowed -0\.050: worse$/) });
  });

  it('does not gate probabilities below minProbabilityLabels, nor accuracy below minLabels, and says so', () => {
    const some = { ...observed, labelled: { ...observed.labelled, rows: 120, probabilities: { ...probabilities, rows: 120, auc: interval(0.3, 0.9, -0.9, -0.3) } } };
    const verdict = judgeShadow(some, spec);
    expect(verdict.passed).toBe(true);
    expect(verdict.checks.map((c) => c.name)).not.toContain('auc');
    expect(verdict.checks.map((c) => c.name)).toContain('accuracy');
    expect(verdict.reason).toMatch(/; 120 labelled requests both models scored, log loss, Brier score and AUC not gated below 300$/);
    const few = { ...some, labelled: { ...some.labelled, rows: 20, probabilities: { ...probabilities, rows: 20 } } };
    expect(judgeShadow(few, spec).reason).toMatch(/; 20 labels so far, accuracy not gated below 50; 20 labelled requests both models scored, log loss, Brier score and AUC not gated below 300$/);
    expect(judgeShadow(some, { ...spec, minProbabilityLabels: 100 }).checks.find((c) => c.name === 'auc')?.passed).toBe(false);
  });

  it('reads an observation recorded before these metrics existed as "not measured": no new checks, the same verdict', () => {
    const { scores: _scores, ...old } = observed;
    const { probabilities: _probabilities, ...oldLabelled } = observed.labelled;
    const verdict = judgeShadow({ ...old, labelled: oldLabelled }, spec);
    expect(verdict.checks.map((c) => c.name)).toEqual(['requests', 'errors', 'agreement', 'latencyP99', 'accuracy']);
  });

  it('takes each gate from the spec: score difference p99 only when given, KS statistic, AUC drop', () => {
    const strict = ShadowSpec.parse({ minRequests: 100, minLabels: 50, maxP99AbsScoreDifference: 0.05, maxScoreKs: 0.03, maxAucDrop: 0.005 });
    const failed = judgeShadow(observed, strict).checks.filter((c) => !c.passed).map((c) => c.name);
    expect(failed).toEqual(['auc', 'scoreAgreement', 'scoreDistribution']);
    expect(judgeShadow(observed, strict).checks.find((c) => c.name === 'scoreAgreement')?.message).toMatch(/\(allowed mean 0\.15, p99 0\.05\)$/);
  });

  it('a shadow spec recorded before the gates existed gets the defaults', () => {
    const recorded: ShadowSpec = { minRequests: 100, maxDurationSeconds: 60, pollSeconds: 1, minAgreement: 0.8, maxLatencyP99Ratio: 2, maxAccuracyDrop: 0.05, minLabels: 50 };
    expect(resolvedShadowGates(recorded)).toEqual({ ...SHADOW_GATE_DEFAULTS, maxP99AbsScoreDifference: null });
    expect(judgeShadow(observed, recorded)).toEqual(judgeShadow(observed, spec));
    // A parsed spec records them.
    expect(ShadowSpec.parse({})).toMatchObject({ ...SHADOW_GATE_DEFAULTS, bootstrap: { samples: 1000, confidence: 0.95, seed: 7 } });
  });
});

describe('judgeCanaryStage on the loss test', () => {
  const spec = CanarySpec.parse({ bakeSeconds: 10, maxBakeSeconds: 60, minRequests: 50 });
  const good = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? 0 : 1) as 0 | 1);
  const traffic = { requests: 200, errors: 0, latencyP99: 5 };
  const accuracy = { pairs: 2400, discordant: 60, canaryRight: 30, canaryAccuracy: 0.881, championAccuracy: 0.881 };
  const losses = (change: Partial<CanaryLosses> = {}): CanaryLosses => ({
    pairs: 2400,
    alpha: 0.05,
    logLoss: interval(0.47, 0.468, -0.03, 0.034),
    brier: interval(0.15, 0.149, -0.012, 0.014),
    auc: { canary: 0.69, champion: 0.7 },
    ...change,
  });
  const observe = (change: Partial<CanaryObservation>): CanaryObservation => ({
    canary: traffic,
    champion: { requests: 2000, errors: 0, latencyP99: 5 },
    sprt: bernoulliSprt(good, { p0: 0.8, ...spec.sprt }),
    accuracy,
    losses: losses(),
    ...change,
  });

  it('passes when the accuracy test and both loss sequences say "not worse", naming them', () => {
    const verdict = judgeCanaryStage(observe({}), spec, 15);
    expect(verdict.verdict).toBe('pass');
    expect(verdict.reason).toContain('; log loss 0.470 vs champion 0.468 on 2400 paired labels: +0.002 (95% confidence sequence -0.030..+0.034), allowed +0.050: not worse');
    expect(verdict.reason).toMatch(/; ROC AUC 0\.690 vs the champion's 0\.700 \(not tested\)$/);
  });

  it('fails at once when a loss sequence lies wholly above its allowance, before the bake time', () => {
    const verdict = judgeCanaryStage(observe({ losses: losses({ logLoss: interval(0.6, 0.47, 0.07, 0.19) }) }), spec, 1);
    expect(verdict).toEqual({
      verdict: 'fail',
      reason: 'online log loss: the sequential test found the canary worse (log loss 0.600 vs champion 0.470 on 2400 paired labels: +0.130 (95% confidence sequence +0.070..+0.190), allowed +0.050: worse)',
    });
  });

  it('waits while a loss sequence is undecided, even when accuracy ties, and fails at the maximum bake time', () => {
    const undecided = observe({ losses: losses({ brier: interval(0.16, 0.15, -0.005, 0.025) }) });
    expect(judgeCanaryStage(undecided, spec, 15)).toEqual({
      verdict: 'wait',
      reason: 'online Brier score undecided (Brier score 0.160 vs champion 0.150 on 2400 paired labels: +0.010 (95% confidence sequence -0.005..+0.025), allowed +0.020: undecided)',
    });
    expect(judgeCanaryStage(undecided, spec, 61).reason).toMatch(/^no decision after 60 s: online Brier score undecided/);
  });

  it('decides nothing on losses below lossTest.minPairs', () => {
    const few = observe({ losses: losses({ pairs: 150, logLoss: interval(0.9, 0.4, 0.3, 0.7) }) });
    expect(judgeCanaryStage(few, spec, 15)).toEqual({ verdict: 'wait', reason: 'online log loss undecided (150/200 paired labels), online Brier score undecided (150/200 paired labels)' });
  });

  it('judges an observation recorded before the loss test existed as before', () => {
    const { losses: _losses, ...old } = observe({});
    expect(judgeCanaryStage(old, spec, 15)).toEqual({ verdict: 'pass', reason: "200 canary requests, error rate 0.0000 vs 0.0000, online accuracy not worse (accuracy 0.881 vs the champion's 0.881 on 2400 paired labels)" });
  });

  it('a canary spec recorded before the loss gates existed gets the defaults', () => {
    const recorded = { ...spec, maxLogLossIncrease: undefined, maxBrierIncrease: undefined, lossTest: undefined };
    expect(resolvedCanaryLossGates(recorded)).toEqual(CANARY_LOSS_DEFAULTS);
    expect(judgeCanaryStage(observe({}), recorded, 15)).toEqual(judgeCanaryStage(observe({}), spec, 15));
  });
});
