import { describe, expect, it } from 'vitest';
import { AdaptiveBatcher, type ModelCallResult } from '../../gateway/adaptive-batcher';

/** A fake model: P(positive) = row / 100; rows named 'bad' make the call throw. Records every call's rows. */
function fakeModel() {
  const calls: number[][] = [];
  const call = async (rows: readonly (number | 'bad')[]): Promise<ModelCallResult> => {
    calls.push(rows.map((r) => (r === 'bad' ? -1 : r)));
    await new Promise((resolve) => setImmediate(resolve));
    if (rows.includes('bad')) throw new Error('bad row');
    const probabilities = Float64Array.from(rows as number[], (r) => r / 100);
    const classProbabilities = new Float32Array(2 * rows.length);
    probabilities.forEach((p, i) => {
      classProbabilities[2 * i] = 1 - p;
      classProbabilities[2 * i + 1] = p;
    });
    return { probabilities, classProbabilities, latencyMs: rows.length };
  };
  return { calls, call };
}

describe('AdaptiveBatcher', () => {
  it('scores a request at once when no call runs', async () => {
    const model = fakeModel();
    const batcher = new AdaptiveBatcher(model.call);
    const result = await batcher.submit([7]);
    expect(Array.from(result.probabilities)).toEqual([0.07]);
    expect(result.scoredAlone).toBe(true);
    expect(model.calls).toEqual([[7]]);
  });

  it('merges requests submitted in the same turn into one call, and gives each its own rows back', async () => {
    const model = fakeModel();
    const batcher = new AdaptiveBatcher(model.call);
    const results = await Promise.all([batcher.submit([1]), batcher.submit([2, 3]), batcher.submit([4])]);
    expect(model.calls).toEqual([[1, 2, 3, 4]]);
    expect(results.map((r) => Array.from(r.probabilities))).toEqual([[0.01], [0.02, 0.03], [0.04]]);
    expect(Array.from(results[1]!.classProbabilities)).toEqual([Math.fround(0.98), Math.fround(0.02), Math.fround(0.97), Math.fround(0.03)]);
    expect(results.map((r) => r.scoredAlone)).toEqual([false, false, false]);
    expect(results[2]!.latencyMs).toBe(4);
  });

  it('queues requests that arrive while a call runs and merges them into the next call', async () => {
    const model = fakeModel();
    const batcher = new AdaptiveBatcher(model.call);
    const first = batcher.submit([1]);
    await Promise.resolve();
    await Promise.resolve();
    expect(model.calls).toEqual([[1]]);
    const later = [batcher.submit([2]), batcher.submit([3])];
    await Promise.all([first, ...later]);
    expect(model.calls).toEqual([[1], [2, 3]]);
  });

  it('gives a probe a call of its own even under load', async () => {
    const model = fakeModel();
    const batcher = new AdaptiveBatcher(model.call);
    const results = await Promise.all([batcher.submit([1]), batcher.submit([2]), batcher.submit([3], true), batcher.submit([4])]);
    expect(model.calls).toEqual([[1, 2, 4], [3]]);
    expect(results.map((r) => r.scoredAlone)).toEqual([false, false, true, false]);
  });

  it('caps merged calls at maxRows', async () => {
    const model = fakeModel();
    const batcher = new AdaptiveBatcher(model.call, 3);
    await Promise.all([batcher.submit([0]), batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5]), batcher.submit([6, 7, 8, 9])]);
    expect(model.calls).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]);
  });

  it('fails only the request whose rows break a merged call', async () => {
    const model = fakeModel();
    const batcher = new AdaptiveBatcher<number | 'bad'>(model.call);
    const settled = await Promise.allSettled([batcher.submit([1]), batcher.submit([2]), batcher.submit(['bad']), batcher.submit([4])]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((settled[2] as PromiseRejectedResult).reason).toEqual(new Error('bad row'));
    expect(Array.from((settled[3] as PromiseFulfilledResult<{ probabilities: Float64Array }>).value.probabilities)).toEqual([0.04]);
    expect(batcher.waiting).toBe(0);
  });
});
