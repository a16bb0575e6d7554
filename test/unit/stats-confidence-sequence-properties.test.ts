import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeCanaryStage, type CanaryLosses } from '../../lib/policy/canary-stage-analysis';
import { CanarySpec } from '../../lib/spec/model-spec';
import { ConfidenceSequence } from '../../lib/stats/asymptotic-confidence-sequence';
import { rowLogLoss } from '../../lib/stats/metrics';
import { pairedLossTest, type ScoredOutcome } from '../../lib/stats/paired-loss-test';
import { mulberry32 } from '../../lib/stats/seeded-random';

// The canary's loss test is looked at after every poll, for as long as a stage lasts. These
// simulations check what that needs: a canary as good as the champion is called worse at most
// about alpha/2 of the time even when the sequence is looked at after every single pair, and a
// clearly worse one is stopped. Requests: a feature z ~ U(-1, 1), P(y = 1) = σ(logit(base) + skill·z);
// a calibrated model predicts exactly that, a model without skill predicts `base`.

const ALPHA = 0.05;
const MIN_PAIRS = 200;

/** One request's log loss (or squared error) under a model that knows the truth, or one that predicts the base rate. */
function requestLoss(random: () => number, base: number, skill: number, informed: boolean, brier = false): number {
  const z = random() * 2 - 1;
  const truth = 1 / (1 + Math.exp(-(Math.log(base / (1 - base)) + skill * z)));
  const y = random() < truth ? 1 : 0;
  const p = informed ? truth : base;
  return brier ? (p - y) ** 2 : rowLogLoss(y, p);
}

/** Share of `runs` simulated sequences whose interval, looked at after every pair from MIN_PAIRS to `pairs`, ever lay wholly above `allowed`. */
function shareCalledWorse(options: { seed: number; base: number; skill: number; canaryInformed: boolean; runs: number; pairs: number; allowed: number; brier?: boolean }): number {
  const random = mulberry32(options.seed);
  let calledWorse = 0;
  for (let run = 0; run < options.runs; run++) {
    const sequence = new ConfidenceSequence({ alpha: ALPHA, tunedFor: 2000 });
    for (let t = 1; t <= options.pairs; t++) {
      const canary = requestLoss(random, options.base, options.skill, options.canaryInformed, options.brier);
      const champion = requestLoss(random, options.base, options.skill, true, options.brier);
      sequence.push(canary - champion);
      if (t >= MIN_PAIRS && sequence.bounds().low > options.allowed) {
        calledWorse++;
        break;
      }
    }
  }
  return calledWorse / options.runs;
}

describe('confidence sequence of the canary − champion loss, in simulation', () => {
  it('calls an equal canary worse in at most alpha of runs, looking after every pair (log loss and Brier score)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.double({ min: 0.02, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 4, noNaN: true }), fc.boolean(), (seed, base, skill, brier) => {
        // Expected at most alpha/2 (one side of a two-sided sequence); simulated about 0.5-2.5 %.
        expect(shareCalledWorse({ seed, base, skill, brier, canaryInformed: true, runs: 400, pairs: 2000, allowed: 0 })).toBeLessThanOrEqual(ALPHA);
      }),
      { numRuns: 6 },
    );
  });

  it('stops a clearly worse canary (log loss higher by 0.1 or more) within 3000 pairs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.double({ min: 0.15, max: 0.5, noNaN: true }), fc.double({ min: 2.5, max: 4, noNaN: true }), (seed, base, skill) => {
        expect(shareCalledWorse({ seed, base, skill, canaryInformed: false, runs: 40, pairs: 3000, allowed: 0.02 })).toBeGreaterThanOrEqual(0.95);
      }),
      { numRuns: 5 },
    );
  });
});

describe('the canary stage analysis on the loss test, looked at every 400 labels', () => {
  const spec = CanarySpec.parse({ bakeSeconds: 1, maxBakeSeconds: 1e9, minRequests: 1, maxLogLossIncrease: 0.02, maxBrierIncrease: 0.01, lossTest: { alpha: ALPHA, minPairs: MIN_PAIRS, tunedForPairs: 2000 } });
  const traffic = { requests: 1000, errors: 0, latencyP99: 1 };

  /** Labels arriving one at a time, half of them the canary's (a 50 % stage); the stage is judged after every 400; returns whether any look failed it on a loss. */
  function failedOnLoss(seed: number, base: number, skill: number, canaryInformed: boolean): boolean {
    const random = mulberry32(seed);
    const canary: ScoredOutcome[] = [];
    const champion: ScoredOutcome[] = [];
    for (let arrival = 1; arrival <= 4000; arrival++) {
      const toCanary = random() < 0.5;
      const z = random() * 2 - 1;
      const truth = 1 / (1 + Math.exp(-(Math.log(base / (1 - base)) + skill * z)));
      const label = random() < truth ? 1 : 0;
      (toCanary ? canary : champion).push({ arrival: BigInt(arrival), probability: toCanary && !canaryInformed ? base : truth, label });
      if (arrival % 400 !== 0) continue;
      const test = pairedLossTest(canary, champion, { alpha: ALPHA, tunedFor: 2000 });
      const interval = (d: typeof test.logLoss) => ({ candidate: d.canary, champion: d.champion, delta: d.delta, low: d.low, high: d.high });
      const losses: CanaryLosses = { pairs: test.pairs, alpha: ALPHA, logLoss: interval(test.logLoss), brier: interval(test.brier), auc: test.auc };
      const verdict = judgeCanaryStage({ canary: traffic, champion: traffic, sprt: null, accuracy: null, losses }, spec, 10);
      expect(verdict.verdict).not.toBe('pass'); // the accuracy test has no decision here
      if (verdict.verdict === 'fail') {
        expect(verdict.reason).toMatch(/^online (log loss|Brier score): the sequential test found the canary worse/);
        return true;
      }
    }
    return false;
  }

  it('rolls back few equal canaries and every clearly worse one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.double({ min: 0.15, max: 0.5, noNaN: true }), fc.double({ min: 2.5, max: 4, noNaN: true }), (seed, base, skill) => {
        const runs = 10;
        let equalRolledBack = 0;
        let worseRolledBack = 0;
        for (let r = 0; r < runs; r++) {
          if (failedOnLoss(seed + r, base, skill, true)) equalRolledBack++;
          if (failedOnLoss(seed + runs + r, base, skill, false)) worseRolledBack++;
        }
        // Two sequences (log loss, Brier), each wrong on this side at most alpha/2 of the time: at most alpha, with slack for 10 runs.
        expect(equalRolledBack).toBeLessThanOrEqual(2);
        expect(worseRolledBack).toBe(runs);
      }),
      { numRuns: 2 },
    );
  });
});
