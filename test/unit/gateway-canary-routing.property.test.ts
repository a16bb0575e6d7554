import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routesToCanary, routingBucket } from '../../gateway/canary-routing';

const model = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const key = fc.string({ minLength: 1, maxLength: 60 });
const weight = fc.double({ min: 0, max: 1, noNaN: true });

describe('canary routing (properties)', () => {
  it('stickiness: a routing key gets the same role every time for a given weight', () => {
    fc.assert(
      fc.property(model, key, weight, (m, k, w) => {
        const first = routesToCanary(m, k, w);
        // Whatever the random source: a key's route never depends on it.
        expect(routesToCanary(m, k, w, () => 0)).toBe(first);
        expect(routesToCanary(m, k, w, () => 0.999999)).toBe(first);
        expect(first).toBe(w >= 1 || (w > 0 && routingBucket(m, k) < w));
      }),
    );
  });

  it('monotonicity: raising the weight never moves a key from the canary back to the champion', () => {
    fc.assert(
      fc.property(model, key, weight, weight, (m, k, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (routesToCanary(m, k, low)) expect(routesToCanary(m, k, high)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('shares: over many keys, the canary share is within a binomial bound of the weight', () => {
    const n = 20_000;
    fc.assert(
      fc.property(model, fc.string({ maxLength: 8 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), (m, salt, w) => {
        let canary = 0;
        for (let i = 0; i < n; i++) if (routesToCanary(m, `${salt}user-${i}`, w)) canary++;
        // 5 standard deviations of Binomial(n, w) / n: a false alarm about once in 3.5 million runs.
        const bound = 5 * Math.sqrt((w * (1 - w)) / n);
        expect(Math.abs(canary / n - w)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 20 },
    );
  });

  it('without a routing key, each request is drawn on its own: canary exactly when the draw is below the weight', () => {
    fc.assert(
      fc.property(model, weight, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (m, w, draw) => {
        expect(routesToCanary(m, null, w, () => draw)).toBe(w >= 1 || (w > 0 && draw < w));
      }),
    );
  });
});
