import { describe, it, expect } from 'vitest';
import { BuiltinTrainerSpec } from '../../lib/spec/model-spec';
import type { FeatureTable } from '../../lib/data/feature-table';
import { syntheticMulticlassFeatureTable } from '../../lib/data/synthetic-feature-table';
import { predictBuiltinModel, trainBuiltinModel, type BuiltinAlgorithm, type BuiltinModel } from '../../lib/training/trainers';

function options(algorithm: BuiltinAlgorithm, changes: Partial<BuiltinTrainerSpec> = {}): BuiltinTrainerSpec {
  return BuiltinTrainerSpec.parse({ kind: 'builtin', algorithm, epochs: 4, batchSize: 128, learningRate: algorithm === 'mlp' ? 0.01 : 0.05, hiddenUnits: 16, seed: 42, ...changes });
}

/** Share of rows whose most probable class is the label. */
function accuracy(model: BuiltinModel, table: FeatureTable): number {
  const p = predictBuiltinModel(model, table);
  const k = model.classes;
  let right = 0;
  for (let row = 0; row < table.rows; row++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[row * k + c]! > p[row * k + best]!) best = c;
    if (best === table.label![row]) right++;
  }
  return right / table.rows;
}

describe.each(['logistic_regression', 'mlp'] as const)('trainBuiltinModel with %s', (algorithm) => {
  it('learns a synthetic 3-class problem far above chance (1/3) on held-out rows', async () => {
    const train = syntheticMulticlassFeatureTable({ rows: 15_000, seed: 1, classes: 3 });
    const holdout = syntheticMulticlassFeatureTable({ rows: 5_000, seed: 2, classes: 3 });
    const model = await trainBuiltinModel({ table: train.table, features: train.features, classes: 3, options: options(algorithm), epochs: 4 });

    // The generator's Bayes classifier scores about 0.84.
    expect(accuracy(model, holdout.table)).toBeGreaterThan(0.78);
    expect(model).toMatchObject({ algorithm, classes: 3 });
    expect(model.training).toMatchObject({ mode: 'from_scratch', rows: 15_000, epochs: 4 });
    expect(model.training.classCounts.reduce((a, b) => a + b)).toBe(15_000);
    expect(model.training.lossHistory[3]).toBeLessThan(model.training.lossHistory[0]!);
    expect(model.training.lossHistory[3]).toBeLessThan(Math.log(3) * 0.7);
  });

  it('gives the same model for the same seed and a different one for another seed', async () => {
    const { table, features } = syntheticMulticlassFeatureTable({ rows: 3_000, seed: 7, classes: 3 });
    const request = { table, features, classes: 3, epochs: 2 };
    const first = await trainBuiltinModel({ ...request, options: options(algorithm) });
    const second = await trainBuiltinModel({ ...request, options: options(algorithm) });
    const other = await trainBuiltinModel({ ...request, options: options(algorithm, { seed: 43 }) });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(JSON.stringify(other.weights)).not.toBe(JSON.stringify(first.weights));
  });

  it('returns probabilities that sum to 1 per row, with class 0 as the reference logit', async () => {
    const { table, features } = syntheticMulticlassFeatureTable({ rows: 2_000, seed: 8, classes: 4 });
    const model = await trainBuiltinModel({ table, features, classes: 4, options: options(algorithm), epochs: 1 });
    const p = predictBuiltinModel(model, table);
    expect(p).toHaveLength(4 * 2_000);
    for (let row = 0; row < 2_000; row += 97) expect(p[4 * row]! + p[4 * row + 1]! + p[4 * row + 2]! + p[4 * row + 3]!).toBeCloseTo(1, 12);
    // K - 1 = 3 logits: the bias of the last layer has 3 entries.
    const bias = model.algorithm === 'mlp' ? model.weights.output.bias : model.weights.bias;
    expect(bias).toHaveLength(3);
  });
});

describe('the MLP', () => {
  // An XOR of two categorical features: no additive model can do better than a coin, one hidden layer can.
  it('learns an interaction that logistic regression cannot', async () => {
    const rows = 4_000;
    const a: string[] = [];
    const b: string[] = [];
    const label = new Uint8Array(rows);
    for (let row = 0; row < rows; row++) {
      const x = row % 2;
      const y = Math.floor(row / 2) % 2;
      a.push(x ? 'yes' : 'no');
      b.push(y ? 'yes' : 'no');
      label[row] = x ^ y;
    }
    const table: FeatureTable = { rows, numeric: {}, categorical: { a, b }, label };
    const features = [
      { name: 'a', kind: 'categorical' as const, maxCategories: 10 },
      { name: 'b', kind: 'categorical' as const, maxCategories: 10 },
    ];
    const request = { table, features, classes: 2, epochs: 5 };
    const mlp = await trainBuiltinModel({ ...request, options: options('mlp', { hiddenUnits: 8, learningRate: 0.05 }) });
    const linear = await trainBuiltinModel({ ...request, options: options('logistic_regression') });
    expect(accuracy(mlp, table)).toBe(1);
    expect(accuracy(linear, table)).toBeLessThan(0.8);
    expect(mlp.training.finalLoss).toBeLessThan(0.05);
    expect(linear.training.finalLoss).toBeGreaterThan(0.69);
  });

  it('keeps one row of hidden weights per category, the "other" bucket included', async () => {
    const { table, features } = syntheticMulticlassFeatureTable({ rows: 1_000, seed: 9, classes: 3 });
    const model = await trainBuiltinModel({ table, features, classes: 3, options: options('mlp', { hiddenUnits: 5 }), epochs: 1 });
    if (model.algorithm !== 'mlp') throw new Error('expected an MLP');
    expect(model.hiddenUnits).toBe(5);
    expect(model.weights.hidden.numeric).toHaveLength(3);
    expect(model.weights.hidden.categorical.map((m) => m.length)).toEqual([9, 6]); // carrier: 8 + other; origin: 5 + other
    expect(model.weights.hidden.categorical[0]!.every((row) => row.length === 5)).toBe(true);
    expect(model.weights.output.weights).toHaveLength(5);
    expect(model.weights.output.weights[0]).toHaveLength(2);
  });
});

describe('trainBuiltinModel', () => {
  it('refuses labels outside 0..classes-1 and impossible requests', async () => {
    const { table, features } = syntheticMulticlassFeatureTable({ rows: 100, seed: 10, classes: 3 });
    const request = { table, features, options: options('logistic_regression'), epochs: 1 };
    await expect(trainBuiltinModel({ ...request, classes: 2 })).rejects.toThrow(/labels must be class indices 0\.\.1; row \d+ has 2/);
    await expect(trainBuiltinModel({ ...request, classes: 1 })).rejects.toThrow(/classes must be an integer from 2 to 256/);
    await expect(trainBuiltinModel({ ...request, classes: 3, epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(trainBuiltinModel({ ...request, classes: 3, features: [...features, features[0]!] })).rejects.toThrow(/duplicate feature 'distance'/);
  });

  it('stops with a clear error when training diverges', async () => {
    const { table, features } = syntheticMulticlassFeatureTable({ rows: 500, seed: 11, classes: 3 });
    await expect(trainBuiltinModel({ table, features, classes: 3, options: options('logistic_regression', { learningRate: 1e300 }), epochs: 1 })).rejects.toThrow(
      /diverged in epoch 1 .*lower learningRate/,
    );
  });
});
