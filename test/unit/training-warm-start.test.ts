import { describe, it, expect, beforeAll } from 'vitest';
import { BuiltinTrainerSpec } from '../../lib/spec/model-spec';
import { syntheticMulticlassFeatureTable } from '../../lib/data/synthetic-feature-table';
import { parseBuiltinModel, trainBuiltinModel, type BuiltinAlgorithm, type BuiltinModel, type BuiltinTrainingRequest } from '../../lib/training/trainers';

function request(algorithm: BuiltinAlgorithm, seed: number): BuiltinTrainingRequest {
  const { table, features } = syntheticMulticlassFeatureTable({ rows: 2_000, seed, classes: 3 });
  const options = BuiltinTrainerSpec.parse({ kind: 'builtin', algorithm, epochs: 3, batchSize: 100, learningRate: 0.02, hiddenUnits: 6, seed: 1 });
  return { table, features, classes: 3, options, epochs: 3 };
}

describe('fine-tuning from a warm start', () => {
  let champion: BuiltinModel;
  let mlpChampion: BuiltinModel;

  beforeAll(async () => {
    champion = await trainBuiltinModel(request('logistic_regression', 31));
    mlpChampion = await trainBuiltinModel(request('mlp', 31));
  });

  it("keeps the warm start's standardization and vocabularies, even where the new data differ", async () => {
    const next = request('logistic_regression', 32);
    // A carrier the champion never saw becomes the most frequent one: a from-scratch run would put it in its vocabulary.
    const carrier = next.table.categorical.carrier!.map((v, i) => (i % 2 === 0 ? 'c-new' : v));
    const distance = next.table.numeric.distance!.map((d) => d * 2);
    const table = { ...next.table, numeric: { ...next.table.numeric, distance }, categorical: { ...next.table.categorical, carrier } };
    const tuned = await trainBuiltinModel({ ...next, table, warmStart: champion, epochs: 1 });
    const scratch = await trainBuiltinModel({ ...next, table, epochs: 1 });

    expect(tuned.preprocessing).toEqual(champion.preprocessing);
    expect(scratch.preprocessing.categorical[0]!.categories).toContain('c-new');
    expect(tuned.training).toMatchObject({ mode: 'fine_tune', epochs: 1, rows: 2_000 });
  });

  it('starts from the warm start weights: its first epoch is already near the champion loss', async () => {
    const next = request('mlp', 32);
    const tuned = await trainBuiltinModel({ ...next, warmStart: mlpChampion, epochs: 1 });
    const scratch = await trainBuiltinModel({ ...next, epochs: 1 });
    expect(tuned.training.finalLoss).toBeLessThan(scratch.training.finalLoss!);
    expect(tuned.training.finalLoss).toBeLessThan(mlpChampion.training.finalLoss! + 0.05);
  });

  it('accepts a champion read back from JSON', async () => {
    const restored = parseBuiltinModel(JSON.parse(JSON.stringify(mlpChampion)));
    const next = request('mlp', 32);
    const fromRestored = await trainBuiltinModel({ ...next, warmStart: restored, epochs: 1 });
    const fromOriginal = await trainBuiltinModel({ ...next, warmStart: mlpChampion, epochs: 1 });
    expect(JSON.stringify(fromRestored)).toBe(JSON.stringify(fromOriginal));
  });

  it('refuses a warm start of another algorithm, class count, feature list or hidden layer size, naming the mismatch', async () => {
    const lr = request('logistic_regression', 32);
    const mlp = request('mlp', 32);
    await expect(trainBuiltinModel({ ...mlp, warmStart: champion })).rejects.toThrow('warm start is a logistic_regression model but the trainer is mlp');
    await expect(trainBuiltinModel({ ...lr, warmStart: { ...champion, classes: 4 } })).rejects.toThrow('warm start has 4 classes but the request has 3');
    const features = lr.features.map((f) => (f.kind === 'categorical' && f.name === 'carrier' ? { ...f, maxCategories: 20 } : f));
    await expect(trainBuiltinModel({ ...lr, features, warmStart: champion })).rejects.toThrow(
      `warm start has feature 'carrier' as {"kind":"categorical","maxCategories":8} but the request has {"kind":"categorical","maxCategories":20}`,
    );
    await expect(trainBuiltinModel({ ...lr, features: lr.features.slice(0, 4), warmStart: champion })).rejects.toThrow(
      'warm start has features [distance, carrier, hour, origin, constant] but the request has [distance, carrier, hour, origin]',
    );
    await expect(trainBuiltinModel({ ...mlp, options: { ...mlp.options, hiddenUnits: 7 }, warmStart: mlpChampion })).rejects.toThrow(
      'warm start has 6 hidden units but the trainer has 7',
    );
  });

  it('refuses a warm start whose weights do not fit its own preprocessing', async () => {
    if (champion.algorithm !== 'logistic_regression') throw new Error('expected a logistic regression');
    const broken = { ...champion, weights: { ...champion.weights, categorical: [champion.weights.categorical[0]!.slice(1), champion.weights.categorical[1]!] } };
    await expect(trainBuiltinModel({ ...request('logistic_regression', 32), warmStart: broken })).rejects.toThrow(
      "logistic regression weights of 'carrier' has 8 rows, expected 9",
    );
    expect(() => parseBuiltinModel({ ...champion, classes: 1 })).toThrow(/invalid built-in model: classes/);
  });
});
