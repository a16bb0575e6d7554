import { describe, expect, it } from 'vitest';
import { CanarySpec, ShadowSpec } from '../../lib/spec/model-spec';
import { approverRefusal } from '../../lib/policy/approver-check';
import { judgeCanaryStage, type CanaryObservation } from '../../lib/policy/canary-stage-analysis';
import { judgeShadow, type ShadowObservation } from '../../lib/policy/shadow-gates';
import { bernoulliSprt } from '../../lib/stats/sequential-probability-ratio-test';

const shadowSpec = ShadowSpec.parse({ minRequests: 100, minAgreement: 0.8, maxLatencyP99Ratio: 2, maxAccuracyDrop: 0.05, minLabels: 50 });
const goodShadow: ShadowObservation = {
  requests: 150,
  candidateErrors: 0,
  agreement: 0.93,
  latencyMs: { championP50: 1, championP99: 4, candidateP50: 1.1, candidateP99: 5 },
  labelled: { rows: 80, championAccuracy: 0.8, candidateAccuracy: 0.79 },
};

describe('judgeShadow', () => {
  it('passes a candidate that agrees, is fast enough and as accurate', () => {
    const verdict = judgeShadow(goodShadow, shadowSpec);
    expect(verdict.passed).toBe(true);
    expect(verdict.checks.map((c) => c.name)).toEqual(['requests', 'errors', 'agreement', 'latencyP99', 'accuracy']);
  });

  it.each<[string, Partial<ShadowObservation>, RegExp]>([
    ['too few mirrored requests', { requests: 20 }, /20 mirrored requests \(need 100\)/],
    ['errors', { candidateErrors: 3 }, /3 candidate errors/],
    ['disagreement', { agreement: 0.6 }, /agreement with the champion 0\.600 \(need 0\.8\)/],
    ['slow p99', { latencyMs: { championP50: 1, championP99: 4, candidateP50: 5, candidateP99: 12 } }, /ratio 3\.000, allowed 2/],
    ['lower accuracy on labels', { labelled: { rows: 80, championAccuracy: 0.8, candidateAccuracy: 0.5 } }, /accuracy on 80 labelled requests 0\.500 vs champion 0\.800/],
  ])('fails on %s, naming the numbers', (_, change, message) => {
    const verdict = judgeShadow({ ...goodShadow, ...change }, shadowSpec);
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toMatch(message);
  });

  it('compares the latency tail the sample supports: one slow call among 150 pairs does not decide it', () => {
    // p99 of 150 pairs is their second-slowest: one pause makes it 8 ms. p93.3 rests on the 10 slowest.
    const observed: ShadowObservation = {
      ...goodShadow,
      latencyMs: { championP50: 0.1, championP99: 0.3, candidateP50: 0.1, candidateP99: 8.3, championTail: 0.2, candidateTail: 0.25, tailQuantile: 1 - 10 / 150, timedPairs: 150 },
    };
    const verdict = judgeShadow(observed, { ...shadowSpec, maxLatencyP99Ratio: 20 });
    expect(verdict.passed).toBe(true);
    expect(verdict.checks.find((c) => c.name === 'latencyP99')?.message).toBe('p93.3 latency 0.25 ms vs champion 0.20 ms over 150 requests both scored alone (ratio 1.250, allowed 20)');
  });

  it('does not gate accuracy on too few labels, and says so', () => {
    const verdict = judgeShadow({ ...goodShadow, labelled: { rows: 10, championAccuracy: 0.9, candidateAccuracy: 0.1 } }, shadowSpec);
    expect(verdict.passed).toBe(true);
    expect(verdict.reason).toMatch(/10 labels so far/);
  });
});

describe('judgeCanaryStage', () => {
  const spec = CanarySpec.parse({ bakeSeconds: 10, maxBakeSeconds: 60, minRequests: 50, maxErrorRateIncrease: 0.01, maxLatencyP99Ratio: 1.5 });
  const good = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? 0 : 1) as 0 | 1);
  const bad = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? 0 : 1) as 0 | 1);
  const traffic = { requests: 200, errors: 0, latencyP99: 5 };
  const observe = (change: Partial<CanaryObservation>): CanaryObservation => ({
    canary: traffic,
    champion: { requests: 2000, errors: 0, latencyP99: 5 },
    sprt: bernoulliSprt(good, { p0: 0.8, ...spec.sprt }),
    ...change,
  });

  it('passes a baked stage with enough traffic and an online test that accepted "not worse"', () => {
    expect(judgeCanaryStage(observe({}), spec, 15).verdict).toBe('pass');
  });

  it('waits while baking, even when everything looks good', () => {
    expect(judgeCanaryStage(observe({}), spec, 5)).toMatchObject({ verdict: 'wait' });
  });

  it('stops a clear loser early, before the bake time', () => {
    const verdict = judgeCanaryStage(observe({ sprt: bernoulliSprt(bad, { p0: 0.8, ...spec.sprt }) }), spec, 1);
    expect(verdict.verdict).toBe('fail');
    expect(verdict.reason).toMatch(/sequential test found the canary worse/);
  });

  it('fails on errors or latency once the canary has enough requests', () => {
    expect(judgeCanaryStage(observe({ canary: { requests: 200, errors: 10, latencyP99: 5 } }), spec, 15).reason).toMatch(/error rate 0\.0500/);
    expect(judgeCanaryStage(observe({ canary: { requests: 200, errors: 0, latencyP99: 9 } }), spec, 15).reason).toMatch(/1\.80x the champion's/);
    // With the tail the samples support, that is what counts (and is named).
    const tails = { tailQuantile: 0.95, champion: { requests: 2000, errors: 0, latencyP99: 5, latencyTail: 2 } };
    expect(judgeCanaryStage(observe({ ...tails, canary: { requests: 200, errors: 0, latencyP99: 40, latencyTail: 2.5 } }), spec, 15).verdict).not.toBe('fail');
    expect(judgeCanaryStage(observe({ ...tails, canary: { requests: 200, errors: 0, latencyP99: 5, latencyTail: 4 } }), spec, 15).reason).toBe(
      "canary p95 latency 4.00 ms is 2.00x the champion's (allowed 1.5x)",
    );
  });

  it('names the paired accuracies when the observation carries them', () => {
    const accuracy = { pairs: 240, discordant: 60, canaryRight: 12, canaryAccuracy: 0.7, championAccuracy: 0.86 };
    const lost = judgeCanaryStage(observe({ accuracy, sprt: bernoulliSprt(bad, { p0: 0.8, ...spec.sprt }) }), spec, 1);
    expect(lost.reason).toMatch(/^online accuracy: the sequential test found the canary worse \(accuracy 0\.700 vs the champion's 0\.860 on 240 paired labels; the canary was the one right in 12 of 60 pairs where only one was, log LR /);
    const held = judgeCanaryStage(observe({ accuracy: { ...accuracy, canaryRight: 30, canaryAccuracy: 0.86 } }), spec, 15);
    expect(held).toMatchObject({ verdict: 'pass' });
    expect(held.reason).toMatch(/online accuracy not worse \(accuracy 0\.860 vs the champion's 0\.860 on 240 paired labels\)$/);
  });

  it('keeps waiting on too little data and fails when the maximum bake time passes, never passes it', () => {
    const thin = observe({ canary: { requests: 10, errors: 0, latencyP99: 5 }, sprt: null });
    expect(judgeCanaryStage(thin, spec, 30)).toMatchObject({ verdict: 'wait' });
    const late = judgeCanaryStage(thin, spec, 61);
    expect(late.verdict).toBe('fail');
    expect(late.reason).toMatch(/no decision after 60 s: 10\/50 canary requests, online test undecided \(no labels yet\)/);
  });
});

describe('approverRefusal', () => {
  it('allows listed approvers and names the allowlist otherwise', () => {
    expect(approverRefusal('alice', ['alice', 'bob'])).toBeNull();
    expect(approverRefusal('mallory', ['alice', 'bob'])).toBe("approver 'mallory' is not on the allowlist (alice, bob)");
    expect(approverRefusal('', ['alice'])).toMatch(/needs an "approver" field/);
    expect(approverRefusal(undefined, ['alice'])).toMatch(/needs an "approver" field/);
  });
});
