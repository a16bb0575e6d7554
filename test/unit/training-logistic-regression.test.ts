import { describe, it, expect } from 'vitest';
import type { FeatureSpec } from '../../lib/spec/model-spec';
import type { FeatureTable } from '../../lib/data/feature-table';
import type { EpochProgress } from '../../lib/training/trainers/train-builtin-model';
import { trainBinaryLogisticRegression } from '../fixtures/binary-logistic-regression';
import { rocAuc } from '../../lib/stats/metrics';
import { syntheticFeatureTable } from '../../lib/data/synthetic-feature-table';
import { predictBuiltinModel } from '../../lib/training/trainers';

const options = { epochs: 4, batchSize: 256, learningRate: 0.05, l2: 1e-5, seed: 42 };

/** P(class 1) of every row. */
function positiveScores(probabilities: Float64Array): Float64Array {
  return probabilities.filter((_, i) => i % 2 === 1);
}

describe('the built-in logistic regression on a binary table', () => {
  it('learns a synthetic problem well enough to rank held-out rows (AUC > 0.9)', async () => {
    const train = syntheticFeatureTable({ rows: 20_000, seed: 1 });
    const holdout = syntheticFeatureTable({ rows: 5_000, seed: 2 });
    const progress: EpochProgress[] = [];
    const model = await trainBinaryLogisticRegression(train.table, train.features, options, (p) => void progress.push(p));

    expect(rocAuc(holdout.table.label!, positiveScores(predictBuiltinModel(model, holdout.table)))).toBeGreaterThan(0.9);
    expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3, 4]);
    expect(progress.every((p) => p.epochs === 4 && p.loss > 0 && p.loss < Math.LN2)).toBe(true);
    expect(model.training).toMatchObject({ mode: 'from_scratch', rows: 20_000, epochs: 4, finalLoss: progress[3]!.loss });
    expect(model.classes).toBe(2);
    // Binary: one logit (class 1 against class 0), and the generator's true coefficients have these signs.
    const [distance, hour] = model.weights.numeric;
    expect(distance).toHaveLength(1);
    expect(distance![0]).toBeGreaterThan(1);
    expect(hour![0]).toBeLessThan(-1);
  });

  it('learns standardization and vocabularies from the training table', async () => {
    const table: FeatureTable = {
      rows: 8,
      numeric: { x: Float64Array.from([1, 2, 3, NaN, 4, 5, 6, 7]), flat: new Float64Array(8).fill(3) },
      // a, b and c tie at 2 rows each; ties go to the smaller value. null and "" are missing, never categories.
      categorical: { city: ['c', 'a', null, 'c', 'b', 'a', 'b', ''] },
      label: Uint8Array.from([0, 0, 0, 1, 1, 1, 1, 0]),
    };
    const features: FeatureSpec[] = [
      { name: 'x', kind: 'numeric' },
      { name: 'flat', kind: 'numeric' },
      { name: 'city', kind: 'categorical', maxCategories: 2 },
    ];
    const model = await trainBinaryLogisticRegression(table, features, { ...options, batchSize: 3 });

    expect(model.features.map((f) => f.name)).toEqual(['x', 'flat', 'city']);
    const [x, flat] = model.preprocessing.numeric;
    expect(x!.mean).toBe(4);
    expect(x!.std).toBeCloseTo(2, 12); // population std of 1..7
    expect(flat).toMatchObject({ mean: 3, std: 1 });
    expect(model.preprocessing.categorical[0]).toEqual({ name: 'city', maxCategories: 2, categories: ['a', 'b'] });
    expect(model.weights.categorical[0]).toHaveLength(3);
    expect(model.training.classCounts).toEqual([4, 4]);
  });

  it('scores missing and unseen values with the imputed mean and the "other" weight', async () => {
    const { table, features } = syntheticFeatureTable({ rows: 2_000, seed: 3 });
    const model = await trainBinaryLogisticRegression(table, features, options);
    const probe: FeatureTable = {
      rows: 4,
      numeric: { distance: Float64Array.from([NaN, model.preprocessing.numeric[0]!.mean, 100, 100]), hour: new Float64Array(4).fill(12), constant: new Float64Array(4).fill(7) },
      categorical: { carrier: ['zz-unseen', null, '', 'c99'], origin: ['AMS', 'AMS', 'AMS', 'AMS'] },
    };
    const p = positiveScores(predictBuiltinModel(model, probe));
    expect(p[0]).toBeCloseTo(p[1]!, 12);
    expect(p[2]).toBeCloseTo(p[3]!, 12);
  });

  it('survives a JSON round trip unchanged', async () => {
    const { table, features } = syntheticFeatureTable({ rows: 1_000, seed: 4 });
    const model = await trainBinaryLogisticRegression(table, features, options);
    const restored = JSON.parse(JSON.stringify(model)) as typeof model;
    expect(predictBuiltinModel(restored, table)).toEqual(predictBuiltinModel(model, table));
  });

  it('names a feature missing from the table', async () => {
    const { table } = syntheticFeatureTable({ rows: 100, seed: 5 });
    await expect(trainBinaryLogisticRegression(table, [{ name: 'altitude', kind: 'numeric' }], options)).rejects.toThrow(/numeric feature 'altitude' is not in the feature table/);
    await expect(trainBinaryLogisticRegression(table, [{ name: 'distance', kind: 'categorical', maxCategories: 3 }], options)).rejects.toThrow(/categorical feature 'distance'/);
  });

  it('refuses tables it cannot learn from', async () => {
    const { table, features } = syntheticFeatureTable({ rows: 100, seed: 6 });
    await expect(trainBinaryLogisticRegression({ ...table, label: undefined }, features, options)).rejects.toThrow(/no label column/);
    await expect(trainBinaryLogisticRegression({ ...table, label: new Uint8Array(100).fill(2) }, features, options)).rejects.toThrow(/labels must be class indices 0\.\.1; row 0 has 2/);
    const infinite = { ...table, numeric: { ...table.numeric, hour: new Float64Array(100).fill(Infinity) } };
    await expect(trainBinaryLogisticRegression(infinite, features, options)).rejects.toThrow(/'hour' has a non-finite value/);
  });
});
