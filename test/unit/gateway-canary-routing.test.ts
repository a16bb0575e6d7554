import { describe, expect, it } from 'vitest';
import { routesToCanary, routingBucket } from '../../gateway/canary-routing';

const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe('canary routing', () => {
  it('maps a routing key to the same bucket every time, within [0, 1)', () => {
    for (const key of keys.slice(0, 100)) {
      const bucket = routingBucket('flight-delay', key);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(1);
      expect(routingBucket('flight-delay', key)).toBe(bucket);
    }
  });

  it('pins the bucket formula (sha256 of "model\\nkey", first 4 bytes big-endian / 2^32), so other clients can reproduce it', () => {
    // `printf 'm\nk' | sha256sum` = c9c400c8…
    expect(routingBucket('m', 'k')).toBe(0xc9c400c8 / 2 ** 32);
  });

  it('sends a share of keys close to the weight to the canary', () => {
    for (const weight of [0.01, 0.05, 0.25, 0.5]) {
      const share = keys.filter((k) => routesToCanary('flight-delay', k, weight)).length / keys.length;
      // Binomial standard deviation at n = 20 000 is at most 0.0036; 5 sigma.
      expect(Math.abs(share - weight)).toBeLessThan(0.018);
    }
  });

  it('keeps every key on the same version while the weight is unchanged', () => {
    const first = keys.map((k) => routesToCanary('flight-delay', k, 0.25));
    const again = keys.map((k) => routesToCanary('flight-delay', k, 0.25));
    expect(again).toEqual(first);
  });

  it('keeps keys on the canary when the weight grows (monotone), and only adds new ones', () => {
    const stages = [0, 0.01, 0.05, 0.25, 0.5, 1];
    let previous = new Set<string>();
    for (const weight of stages) {
      const onCanary = new Set(keys.filter((k) => routesToCanary('flight-delay', k, weight)));
      for (const key of previous) expect(onCanary.has(key)).toBe(true);
      expect(onCanary.size).toBeGreaterThanOrEqual(previous.size);
      previous = onCanary;
    }
    expect(previous.size).toBe(keys.length);
  });

  it('routes nothing at weight 0 and everything at weight 1, with or without a key', () => {
    expect(routesToCanary('m', 'k', 0)).toBe(false);
    expect(routesToCanary('m', null, 0, () => 0)).toBe(false);
    expect(routesToCanary('m', 'k', 1)).toBe(true);
    expect(routesToCanary('m', null, 1, () => 0.999)).toBe(true);
  });

  it('decides each request on its own without a routing key', () => {
    expect(routesToCanary('m', null, 0.3, () => 0.29)).toBe(true);
    expect(routesToCanary('m', null, 0.3, () => 0.3)).toBe(false);
  });

  it('assigns buckets independently per model, so one model\'s canary users are not always the next one\'s', () => {
    const a = keys.filter((k) => routesToCanary('model-a', k, 0.1));
    const both = a.filter((k) => routesToCanary('model-b', k, 0.1)).length;
    // Independent: about 10 % of model-a's canary keys are also model-b's.
    expect(both / a.length).toBeLessThan(0.2);
  });
});
