import { describe, it, expect } from 'vitest';
import { BuiltinTrainerSpec } from '../../lib/spec/model-spec';
import { syntheticMulticlassFeatureTable } from '../../lib/data/synthetic-feature-table';
import { parseTrainerCheckpoint, trainBuiltinModel, type BuiltinAlgorithm, type BuiltinTrainingRequest, type TrainerCheckpoint } from '../../lib/training/trainers';

const EPOCHS = 5;

function request(algorithm: BuiltinAlgorithm, changes: Partial<BuiltinTrainerSpec> = {}): BuiltinTrainingRequest {
  const { table, features } = syntheticMulticlassFeatureTable({ rows: 3_000, seed: 21, classes: 3 });
  const options = BuiltinTrainerSpec.parse({ kind: 'builtin', algorithm, epochs: EPOCHS, batchSize: 100, learningRate: 0.02, hiddenUnits: 8, seed: 5, ...changes });
  return { table, features, classes: 3, options, epochs: EPOCHS };
}

/** Every checkpoint of a run, as it would come back from S3. */
async function checkpointsOf(run: BuiltinTrainingRequest): Promise<TrainerCheckpoint[]> {
  const stored: string[] = [];
  await trainBuiltinModel({ ...run, onEpoch: (_progress, checkpoint) => void stored.push(JSON.stringify(checkpoint())) });
  return stored.map((json) => parseTrainerCheckpoint(JSON.parse(json)));
}

describe.each(['logistic_regression', 'mlp'] as const)('resuming %s from a checkpoint', (algorithm) => {
  // The worker may crash after any epoch; the retried attempt must register the very model an uninterrupted run would.
  it('gives exactly the model of an uninterrupted run, whichever epoch it resumes after', async () => {
    const run = request(algorithm);
    const uninterrupted = JSON.stringify(await trainBuiltinModel(run));
    const checkpoints = await checkpointsOf(run);
    expect(checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3, 4, 5]);
    for (const checkpoint of checkpoints) {
      const epochs: number[] = [];
      const resumed = await trainBuiltinModel({ ...run, resumeFrom: checkpoint, onEpoch: ({ epoch }) => void epochs.push(epoch) });
      expect(JSON.stringify(resumed)).toBe(uninterrupted);
      expect(epochs).toEqual([1, 2, 3, 4, 5].filter((e) => e > checkpoint.epoch));
    }
  });

  it('resumes a fine-tuning run exactly too', async () => {
    const base = await trainBuiltinModel(request(algorithm));
    const { table } = syntheticMulticlassFeatureTable({ rows: 2_000, seed: 22, classes: 3 });
    const fineTune = { ...request(algorithm), table, warmStart: base, epochs: 3 };
    const uninterrupted = JSON.stringify(await trainBuiltinModel(fineTune));
    const [, second] = await checkpointsOf(fineTune);
    expect(second!.model.training.mode).toBe('fine_tune');
    expect(JSON.stringify(await trainBuiltinModel({ ...fineTune, resumeFrom: second }))).toBe(uninterrupted);
  });
});

describe('trainer checkpoints', () => {
  it('hold the epoch, weights with preprocessing, Adam state, generator state and loss history', async () => {
    const [first, second] = await checkpointsOf(request('mlp'));
    expect(second).toMatchObject({ version: 1, algorithm: 'mlp', epoch: 2, epochs: 5, model: { algorithm: 'mlp', hiddenUnits: 8 } });
    expect(second!.model.training.lossHistory).toEqual([first!.model.training.finalLoss, second!.model.training.finalLoss]);
    expect(second!.optimizer.step).toBe(60); // 2 epochs × 3000 rows / 100 per batch
    expect(second!.optimizer.firstMoment).toHaveLength(second!.optimizer.secondMoment.length);
    expect(second!.randomState).not.toBe(first!.randomState);
  });

  it('belong to one run: other hyper-parameters, rows, mode or run length are refused', async () => {
    const run = request('logistic_regression');
    const [checkpoint] = await checkpointsOf(run);
    const resume = (changes: Partial<BuiltinTrainingRequest>) => trainBuiltinModel({ ...run, resumeFrom: checkpoint, ...changes });
    await expect(resume({ options: { ...run.options, learningRate: 0.5 } })).rejects.toThrow(/checkpoint does not belong to this training run: learningRate 0.02 vs 0.5/);
    await expect(resume({ options: { ...run.options, seed: 6 } })).rejects.toThrow(/seed 5 vs 6/);
    const { table } = syntheticMulticlassFeatureTable({ rows: 2_999, seed: 21, classes: 3 });
    await expect(resume({ table })).rejects.toThrow(/rows 3000 vs 2999/);
    await expect(resume({ warmStart: checkpoint!.model })).rejects.toThrow(/mode from_scratch vs fine_tune/);
    await expect(resume({ options: { ...run.options, algorithm: 'mlp' } })).rejects.toThrow(/checkpoint is a logistic_regression model but the trainer is mlp/);
    // The learning rate decays over the whole run, so a run of another length is another run.
    await expect(resume({ epochs: 6 })).rejects.toThrow(/a run of 5 epochs vs 6/);
  });

  it('can be taken only during their onEpoch call', async () => {
    let late: (() => TrainerCheckpoint) | undefined;
    await trainBuiltinModel({ ...request('logistic_regression'), epochs: 2, onEpoch: (_p, checkpoint) => void (late ??= checkpoint) });
    expect(() => late!()).toThrow(/checkpoint of epoch 1 can only be taken during its onEpoch call/);
  });

  it('are parsed strictly when read back', async () => {
    const [checkpoint] = await checkpointsOf(request('logistic_regression'));
    const json = JSON.parse(JSON.stringify(checkpoint)) as Record<string, unknown>;
    expect(() => parseTrainerCheckpoint({ ...json, version: 2 })).toThrow(/invalid trainer checkpoint: version/);
    expect(() => parseTrainerCheckpoint({ ...json, algorithm: 'mlp' })).toThrow(/algorithm is 'mlp' but the model is 'logistic_regression'/);
    expect(() => parseTrainerCheckpoint({ ...json, epoch: 2 })).toThrow(/epoch 2 but 1 losses/);
    expect(() => parseTrainerCheckpoint({ ...json, epochs: 0 })).toThrow(/invalid trainer checkpoint: epochs/);
    expect(() => parseTrainerCheckpoint({ ...json, epoch: 6 })).toThrow(/epoch 6 of a run of 5 epochs/);
    const truncated = { ...checkpoint!, optimizer: { ...checkpoint!.optimizer, firstMoment: [1, 2] } };
    await expect(trainBuiltinModel({ ...request('logistic_regression'), resumeFrom: truncated })).rejects.toThrow(/optimizer state has 2\/\d+ moments/);
  });
});
