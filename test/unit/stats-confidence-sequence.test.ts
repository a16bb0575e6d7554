import { describe, expect, it } from 'vitest';
import { ConfidenceSequence, meanConfidenceSequence, mixtureRhoSquared } from '../../lib/stats/asymptotic-confidence-sequence';
import { pairByArrival } from '../../lib/stats/arrival-pairing';
import { pairedLossTest, type ScoredOutcome } from '../../lib/stats/paired-loss-test';

const a = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % 1009) / 1009);

/*
 * The asymptotic confidence sequence (Waudby-Smith et al. 2024, Theorem 2.2), computed independently:
 *
 * python3 -c "
 * import math, numpy as np
 * v = np.array([((i*7919) % 1009)/1009 for i in range(500)]) - 0.5; t = len(v); alpha, tstar = 0.05, 200
 * l = -2*math.log(alpha); rho2 = (l + math.log(1 + l))/tstar; s = t*rho2 + 1
 * r = v.std()*math.sqrt(2*s/(t*t*rho2)*math.log(math.sqrt(s)/alpha)); print(*(repr(float(x)) for x in (v.mean(), v.std(), v.mean() - r, v.mean() + r)))"
 */
describe('meanConfidenceSequence', () => {
  it('is the normal-mixture boundary with the running standard deviation', () => {
    const values = a(500).map((v) => v - 0.5);
    const bounds = meanConfidenceSequence(values, { alpha: 0.05, tunedFor: 200 });
    expect(bounds.observations).toBe(500);
    expect(bounds.mean).toBeCloseTo(-0.0010029732408325094, 14);
    expect(bounds.standardDeviation).toBeCloseTo(0.2885963924559838, 14);
    expect(bounds.low).toBeCloseTo(-0.040748484288553946, 13);
    expect(bounds.high).toBeCloseTo(0.038742537806888924, 13);
  });

  it('pushed one at a time, it gives the same intervals at every look', () => {
    const values = a(300).map((v) => v * v);
    const sequence = new ConfidenceSequence({ alpha: 0.1, tunedFor: 100 });
    values.forEach((v, i) => {
      sequence.push(v);
      if (i % 50 === 49) expect(sequence.bounds()).toEqual(meanConfidenceSequence(values.slice(0, i + 1), { alpha: 0.1, tunedFor: 100 }));
    });
  });

  it('is narrowest, relative to a fixed-n interval, near the number of observations it is tuned for', () => {
    // Width at t × √t: the sequence's price over a fixed interval; it is smallest near t*.
    const widthTimesRootT = (t: number, tunedFor: number) => {
      const values = Array.from({ length: t }, (_, i) => (i % 2 === 0 ? 1 : -1));
      const { low, high } = meanConfidenceSequence(values, { alpha: 0.05, tunedFor });
      return (high - low) * Math.sqrt(t);
    };
    expect(widthTimesRootT(1000, 1000)).toBeLessThan(widthTimesRootT(1000, 100));
    expect(widthTimesRootT(1000, 1000)).toBeLessThan(widthTimesRootT(1000, 10_000));
  });

  it('has no interval before two observations, and NaN throughout after a NaN', () => {
    expect(meanConfidenceSequence([], { alpha: 0.05, tunedFor: 10 })).toMatchObject({ observations: 0, mean: NaN, low: NaN, high: NaN });
    expect(meanConfidenceSequence([0.3], { alpha: 0.05, tunedFor: 10 })).toMatchObject({ observations: 1, mean: 0.3, low: NaN, high: NaN });
    expect(meanConfidenceSequence([0.3, NaN, 0.2], { alpha: 0.05, tunedFor: 10 })).toMatchObject({ mean: NaN, low: NaN, high: NaN });
  });

  it('refuses an alpha outside (0, 1) or a tuning below one observation', () => {
    expect(() => mixtureRhoSquared({ alpha: 0, tunedFor: 10 })).toThrow('a confidence sequence needs alpha in (0, 1), got 0');
    expect(() => mixtureRhoSquared({ alpha: 0.05, tunedFor: 0 })).toThrow('a confidence sequence is tuned for at least 1 observation, got 0');
  });
});

describe('pairByArrival', () => {
  it('pairs each canary outcome with the first unpaired champion outcome that arrived after it', () => {
    const canary = [{ arrival: 5n, id: 'c5' }, { arrival: 1n, id: 'c1' }, { arrival: 9n, id: 'c9' }];
    const champion = [{ arrival: 2n, id: 'h2' }, { arrival: 3n, id: 'h3' }, { arrival: 6n, id: 'h6' }];
    expect(pairByArrival(canary, champion).map(([c, h]) => `${c.id}-${h.id}`)).toEqual(['c1-h2', 'c5-h6']);
    expect(pairByArrival([], champion)).toEqual([]);
  });
});

describe('pairedLossTest', () => {
  const outcome = (arrival: number, probability: number, label: 0 | 1): ScoredOutcome => ({ arrival: BigInt(arrival), probability, label });

  it('compares per-request log loss and Brier score over the arrival pairs', () => {
    const canary = [outcome(1, 0.5, 1), outcome(3, 0.5, 0), outcome(5, 0.5, 1)];
    const champion = [outcome(2, 0.9, 1), outcome(4, 0.2, 0), outcome(6, 0.6, 0)];
    const test = pairedLossTest(canary, champion, { alpha: 0.05, tunedFor: 100 });
    expect(test.pairs).toBe(3);
    expect(test.logLoss.canary).toBeCloseTo(Math.log(2), 12);
    expect(test.logLoss.champion).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.4)) / 3, 12);
    expect(test.logLoss.delta).toBeCloseTo(test.logLoss.canary - test.logLoss.champion, 12);
    expect(test.brier.canary).toBeCloseTo(0.25, 12);
    expect(test.brier.champion).toBeCloseTo((0.01 + 0.04 + 0.36) / 3, 12);
    expect(test.logLoss.low).toBeLessThan(test.logLoss.delta);
    expect(test.logLoss.high).toBeGreaterThan(test.logLoss.delta);
    // The canary's scores all tie (AUC 0.5); the champion ranks its one positive first.
    expect(test.auc.canary).toBeCloseTo(0.5, 12);
    expect(test.auc.champion).toBeCloseTo(1, 12);
  });

  it('no pairs: nothing measured; a NaN probability: that sequence cannot be computed; one class: no AUC', () => {
    const empty = pairedLossTest([], [outcome(1, 0.2, 0)], { alpha: 0.05, tunedFor: 100 });
    expect(empty).toMatchObject({ pairs: 0, logLoss: { canary: NaN, champion: NaN, delta: NaN, low: NaN, high: NaN }, auc: { canary: NaN, champion: NaN } });
    const withNaN = pairedLossTest([outcome(1, NaN, 1), outcome(3, 0.4, 0)], [outcome(2, 0.3, 1), outcome(4, 0.3, 0)], { alpha: 0.05, tunedFor: 100 });
    expect(withNaN).toMatchObject({ pairs: 2, logLoss: { delta: NaN, low: NaN, high: NaN }, brier: { delta: NaN, low: NaN, high: NaN }, auc: { canary: NaN } });
    const oneClass = pairedLossTest([outcome(1, 0.4, 0), outcome(3, 0.2, 0)], [outcome(2, 0.3, 0), outcome(4, 0.1, 0)], { alpha: 0.05, tunedFor: 100 });
    expect(oneClass.auc).toEqual({ canary: NaN, champion: NaN });
    expect(Number.isFinite(oneClass.logLoss.low)).toBe(true);
  });
});
