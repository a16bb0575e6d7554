import { beforeAll, describe, expect, it } from 'vitest';
import { ModelSession, type FeatureRecord } from '../../gateway/model-session';
import { BuiltinTrainerSpec, type FeatureSpec } from '../../lib/spec/model-spec';
import type { FeatureTable } from '../../lib/data/feature-table';
import { syntheticFeatureTable } from '../../lib/data/synthetic-feature-table';
import { exportBuiltinModelToOnnx, predictBuiltinModel, trainBuiltinModel, type BuiltinModel } from '../../lib/training/trainers';

describe('ModelSession', () => {
  let model: BuiltinModel;
  let bytes: Uint8Array;
  let features: FeatureSpec[];

  beforeAll(async () => {
    const train = syntheticFeatureTable({ rows: 4_000, seed: 3 });
    features = train.features;
    model = await trainBuiltinModel({ table: train.table, features, classes: 2, options: BuiltinTrainerSpec.parse({ kind: 'builtin' }), epochs: 2 });
    bytes = exportBuiltinModelToOnnx(model);
  });

  it('scores request rows like the built-in model, missing values (null) included', async () => {
    const rows: FeatureRecord[] = [
      { distance: 120, carrier: 'c00', hour: 6, origin: 'AMS', constant: 7 },
      { distance: null, carrier: null, hour: 22, origin: 'EWR', constant: 7 },
      { distance: 1800, carrier: 'c99', hour: 13, origin: 'XYZ', constant: 7 },
    ];
    const table: FeatureTable = {
      rows: 3,
      numeric: {
        distance: Float64Array.from(rows, (r) => (r.distance === null ? NaN : Number(r.distance))),
        hour: Float64Array.from(rows, (r) => Number(r.hour)),
        constant: Float64Array.from(rows, () => 7),
      },
      categorical: { carrier: rows.map((r) => r.carrier as string | null), origin: rows.map((r) => r.origin as string | null) },
    };
    const session = (await ModelSession.create(bytes, { id: '1', version: 1 })).retain();
    const scored = await session.score(rows);
    session.release();
    const expected = predictBuiltinModel(model, table);
    expect(scored.probabilities).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      expect(scored.probabilities[i]).toBeCloseTo(expected[2 * i + 1]!, 5);
      expect(scored.classProbabilities[2 * i]! + scored.classProbabilities[2 * i + 1]!).toBeCloseTo(1, 5);
    }
    expect(scored.latencyMs).toBeGreaterThan(0);
  });

  it('reports a probability that is not a finite number as a failure naming the row, not as a result', async () => {
    const session = (await ModelSession.create(bytes, { id: '3', version: 3 })).retain();
    // Validation refuses such values before they reach a model; here the session is called directly.
    const rows: FeatureRecord[] = [
      { distance: 120, carrier: 'c00', hour: 6, origin: 'AMS', constant: 7 },
      { distance: 1e39, carrier: 'c00', hour: -1e39, origin: 'AMS', constant: 7 },
    ];
    const attempt = await session.attempt(rows);
    session.release();
    expect(attempt.ok).toBe(false);
    expect(!attempt.ok && attempt.error.message).toBe('v3 returned NaN as the probability of row 1');
  });

  it('is released with its last reference, and cannot be retained afterwards', async () => {
    let disposed = 0;
    const session = await ModelSession.create(bytes, { id: '2', version: 2 });
    session.whenDisposed(() => disposed++);
    session.retain();
    session.retain();
    session.release();
    expect(disposed).toBe(0);
    session.release();
    expect(disposed).toBe(1);
    expect(() => session.retain()).toThrow(/already released/);
    expect(() => session.release()).toThrow(/more often than retained/);
  });

  it('says why it cannot serve a spec whose features do not match its inputs', async () => {
    const session = await ModelSession.create(bytes, { id: '3', version: 3 });
    expect(session.incompatibility(features)).toBeNull();
    expect(session.incompatibility([...features, { name: 'extra', kind: 'numeric' }])).toBeNull();
    expect(session.incompatibility(features.filter((f) => f.name !== 'hour'))).toMatch(/v3 reads input 'hour', which is not a feature of the serving contract/);
    const recast = features.map((f): FeatureSpec => (f.name === 'origin' ? { name: 'origin', kind: 'numeric' } : f));
    expect(session.incompatibility(recast)).toBe("v3 reads 'origin' as string, but the serving contract declares it numeric");
    session.retain().release();
  });
});
