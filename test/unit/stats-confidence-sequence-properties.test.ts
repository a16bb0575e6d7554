import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfidenceSequence } from '../../lib/stats/asymptotic-confidence-sequence';
import { rowLogLoss } from '../../lib/stats/metrics';
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
