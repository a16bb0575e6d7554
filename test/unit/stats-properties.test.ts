import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryLabel } from '../../lib/stats/decision-threshold';
import { pairedAccuracySprt } from '../../lib/stats/paired-accuracy-test';
import { pairedBootstrap } from '../../lib/stats/paired-bootstrap';
import { quantileOfSorted } from '../../lib/stats/quantile';
import { bernoulliSprt } from '../../lib/stats/sequential-probability-ratio-test';

// Properties the statistics must keep on any input, not only on the pinned examples of their own tests.

/** Labelled rows with both classes present and scores in [0, 1]. */
const scoredRows = fc
  .array(fc.tuple(fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 8, maxLength: 120 })
  .filter((rows) => rows.some(([y]) => y) && rows.some(([y]) => !y))
  .map((rows) => ({
    labels: Uint8Array.from(rows.map(([y]) => (y ? 1 : 0))),
    a: Float64Array.from(rows.map(([, s]) => s)),
    b: Float64Array.from(rows.map(([, , s]) => s)),
  }));

describe('paired bootstrap, on generated rows', () => {
  const options = { samples: 40, confidence: 0.9 };

  it('finds no difference, with a zero-width interval, between a model and itself', () => {
    fc.assert(
      fc.property(scoredRows, fc.integer({ min: 1, max: 1000 }), ({ labels, a }, seed) => {
        const result = pairedBootstrap({ labels, candidateScores: a, championScores: a, seed, ...options });
        for (const metric of Object.values(result)) {
          if (Number.isNaN(metric.delta)) continue;
          expect(metric.delta).toBe(0);
          if (metric.replicates > 0) expect([metric.low, metric.high]).toEqual([0, 0]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('negates the difference and mirrors the interval when the two models swap places', () => {
    fc.assert(
      fc.property(scoredRows, fc.integer({ min: 1, max: 1000 }), ({ labels, a, b }, seed) => {
        const forward = pairedBootstrap({ labels, candidateScores: a, championScores: b, seed, ...options });
        const backward = pairedBootstrap({ labels, candidateScores: b, championScores: a, seed, ...options });
        for (const name of Object.keys(forward) as Array<keyof typeof forward>) {
          const f = forward[name];
          const r = backward[name];
          if (Number.isNaN(f.delta)) continue;
          expect(r.delta).toBeCloseTo(-f.delta, 12);
          expect(r.low).toBeCloseTo(-f.high, 12);
          expect(r.high).toBeCloseTo(-f.low, 12);
          expect(f.low).toBeLessThanOrEqual(f.high);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('gives the same interval for the same seed', () => {
    fc.assert(
      fc.property(scoredRows, fc.integer({ min: 1, max: 1000 }), ({ labels, a, b }, seed) => {
        const once = pairedBootstrap({ labels, candidateScores: a, championScores: b, seed, ...options });
        expect(pairedBootstrap({ labels, candidateScores: a, championScores: b, seed, ...options })).toEqual(once);
      }),
      { numRuns: 20 },
    );
  });
});

describe('sequential tests, on generated outcome streams', () => {
  const outcomes = fc.array(fc.boolean(), { maxLength: 400 });
  const rates = { alpha: 0.05, beta: 0.1 };

  it('stop at the first crossing and count only what they looked at', () => {
    fc.assert(
      fc.property(outcomes, fc.double({ min: 0.55, max: 0.99, noNaN: true }), (stream, p0) => {
        const result = bernoulliSprt(stream, { p0, minEffect: 0.05, ...rates });
        expect(result.observations).toBeLessThanOrEqual(stream.length);
        expect(result.successes).toBe(stream.slice(0, result.observations).filter(Boolean).length);
        if (result.decision === 'continue') expect(result.observations).toBe(stream.length);
        else {
          // Every prefix before the stop stayed strictly between the bounds.
          const before = bernoulliSprt(stream.slice(0, result.observations - 1), { p0, minEffect: 0.05, ...rates });
          expect(before.decision).toBe('continue');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never call "worse" on a stream where each outcome is at least as good as before (a success for a failure)', () => {
    fc.assert(
      fc.property(outcomes, fc.nat(), (stream, at) => {
        if (stream.length === 0) return;
        const i = at % stream.length;
        const better = stream.map((s, j) => (j === i ? true : s));
        const options = { p0: 0.8, minEffect: 0.1, ...rates };
        const worse = bernoulliSprt(stream, options);
        const improved = bernoulliSprt(better, options);
        if (worse.decision !== 'accept_h1') expect(improved.decision).not.toBe('accept_h1');
        expect(improved.logLikelihoodRatio).toBeLessThanOrEqual(worse.logLikelihoodRatio + 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('the paired accuracy test only ever counts discordant pairs, and swapping the models swaps who was right', () => {
    const predictions = fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 10_000n }), fc.boolean()), { maxLength: 120 });
    fc.assert(
      fc.property(predictions, predictions, (canaryRaw, championRaw) => {
        const canary = canaryRaw.map(([arrival, correct]) => ({ arrival, correct }));
        const champion = championRaw.map(([arrival, correct]) => ({ arrival, correct }));
        const result = pairedAccuracySprt(canary, champion, { minEffect: 0.05, ...rates });
        expect(result.discordant).toBeLessThanOrEqual(result.pairs);
        expect(result.canaryRight).toBeLessThanOrEqual(result.discordant);
        expect(result.pairs).toBeLessThanOrEqual(Math.min(canary.length, champion.length));
        const flipped = pairedAccuracySprt(
          canary.map((c) => ({ ...c, correct: !c.correct })),
          champion.map((h) => ({ ...h, correct: !h.correct })),
          { minEffect: 0.05, ...rates },
        );
        // Flipping every outcome keeps the pairs and the discordant count, and turns the canary's wins into losses.
        expect(flipped.pairs).toBe(result.pairs);
        expect(flipped.discordant).toBe(result.discordant);
        expect(flipped.canaryRight).toBe(result.discordant - result.canaryRight);
      }),
      { numRuns: 200 },
    );
  });
});

describe('quantiles and the decision threshold', () => {
  it('a quantile lies within the sample and never decreases with p', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (values, p, q) => {
        const sorted = Float64Array.from(values).sort();
        const [lo, hi] = p <= q ? [p, q] : [q, p];
        const a = quantileOfSorted(sorted, lo);
        const b = quantileOfSorted(sorted, hi);
        expect(a).toBeGreaterThanOrEqual(sorted[0]!);
        expect(b).toBeLessThanOrEqual(sorted[sorted.length - 1]!);
        expect(a).toBeLessThanOrEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('labels a binary score positive exactly when it reaches the threshold', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (p) => {
        expect(binaryLabel(p)).toBe(p >= 0.5 ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });
});
