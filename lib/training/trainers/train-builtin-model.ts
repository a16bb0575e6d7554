/**
 * Trains a built-in model (softmax logistic regression or MLP) with mini-batch Adam and a
 * cosine learning-rate decay over the run, from scratch, as a fine-tuning of a warm-start
 * model, or resumed from a checkpoint.
 * Deterministic: the same table, features, options and seed give the same model, and a
 * run resumed from any of its checkpoints gives exactly the model of an uninterrupted run.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { BuiltinTrainerSpec, FeatureSpec } from '../../spec/model-spec';
import type { FeatureTable } from '../../data/feature-table';
import { Mulberry32 } from '../../stats/seeded-random';
import { AdamOptimizer, type AdamState } from './adam-optimizer';
import { builtinAlgorithm, modelShape } from './algorithm-registry';
import type { ModelShape } from './builtin-algorithm';
import type { BuiltinModel, BuiltinTrainingInfo, FeaturePreprocessing, TrainingMode } from './builtin-model';
import { encodeRows, gatherRows, inputLayout, permuteRows } from './encoded-rows';
import { EpochOrder, storagePermutation } from './epoch-order';
import { requireClassLabels } from './feature-columns';
import { fitPreprocessing } from './feature-preprocessing';
import { cosineLearningRate } from './learning-rate-schedule';
import { TRAINER_CHECKPOINT_VERSION, type TrainerCheckpoint } from './trainer-checkpoint';

/** Reported after every epoch; `loss` is the mean log loss on the whole training table (no L2 term). */
export interface EpochProgress {
  epoch: number;
  epochs: number;
  loss: number;
}

export interface BuiltinTrainingRequest {
  /** `label` holds class indices 0..classes-1. */
  table: FeatureTable;
  features: FeatureSpec[];
  /** Number of classes K ≥ 2 (at most 256: labels are bytes). */
  classes: number;
  options: BuiltinTrainerSpec;
  /** Epochs of this run (the caller picks options.epochs or options.fineTuneEpochs). */
  epochs: number;
  /** Fine-tune: start from this model's weights and keep its preprocessing and architecture. */
  warmStart?: BuiltinModel;
  /** Continue an interrupted run of the same request after its last completed epoch. */
  resumeFrom?: TrainerCheckpoint;
  /**
   * Awaited after every epoch, e.g. to heartbeat. `checkpoint()` builds the run's state on
   * demand (a few copies of the parameters); it may be called only during this call.
   */
  onEpoch?: (progress: EpochProgress, checkpoint: () => TrainerCheckpoint) => void | Promise<void>;
}

/** Where a run starts: fresh, from a warm start's weights, or from a checkpoint. */
interface RunStart {
  mode: TrainingMode;
  preprocessing: FeaturePreprocessing;
  shape: ModelShape;
  params: Float64Array;
  random: Mulberry32;
  optimizer?: AdamState;
  lossHistory: number[];
}

export async function trainBuiltinModel(request: BuiltinTrainingRequest): Promise<BuiltinModel> {
  const { table, features, classes, options, epochs } = request;
  if (!Number.isInteger(classes) || classes < 2 || classes > 256) throw new Error(`classes must be an integer from 2 to 256, got ${classes}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
  if (features.length === 0) throw new Error('cannot train without features');
  requireUniqueNames(features);
  const labels = requireClassLabels(table, classes);
  const definition = builtinAlgorithm(options.algorithm);

  const start = request.resumeFrom ? resumeStart(request, request.resumeFrom) : request.warmStart ? warmStart(request, request.warmStart) : scratchStart(request);
  const { mode, preprocessing, shape, params, random, lossHistory } = start;
  const rows = permuteRows(encodeRows(table, preprocessing, labels), storagePermutation(table.rows, options.seed));
  const kernel = definition.createKernel(shape, params);
  const optimizer = new AdamOptimizer(definition.l2Coefficients(shape, options.l2), start.optimizer);
  const batchesPerEpoch = Math.ceil(rows.rows / options.batchSize);
  const gradient = new Float64Array(params.length);
  const epochOrder = new EpochOrder(rows.rows);
  const batch = new Float64Array(Math.min(options.batchSize, rows.rows) * rows.stride);
  const nextRandom = () => random.next();
  const classCounts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) classCounts[labels[i]!]!++;

  const modelNow = () =>
    definition.modelOf(shape, params, {
      classes,
      features: features.map((f) => ({ ...f })),
      preprocessing,
      training: trainingInfo(mode, rows.rows, classCounts, lossHistory, options),
    });

  for (let epoch = lossHistory.length + 1; epoch <= epochs; epoch++) {
    // The order depends only on the generator's state, so a checkpoint need not store it.
    const order = epochOrder.shuffle(nextRandom);
    for (let batchIndex = 0; batchIndex < batchesPerEpoch; batchIndex++) {
      const begin = batchIndex * options.batchSize;
      const end = Math.min(rows.rows, begin + options.batchSize);
      gradient.fill(0);
      kernel.accumulateGradient(gatherRows(rows, order, begin, end, batch), gradient);
      const step = (epoch - 1) * batchesPerEpoch + batchIndex;
      optimizer.update(params, gradient, 1 / (end - begin), cosineLearningRate(options.learningRate, step, epochs * batchesPerEpoch));
    }
    const loss = kernel.meanLoss(rows);
    if (!Number.isFinite(loss)) throw new Error(`training diverged in epoch ${epoch} (mean log loss ${loss}); lower learningRate (${options.learningRate})`);
    lossHistory.push(loss);

    if (request.onEpoch) {
      let checkpoint: TrainerCheckpoint | undefined;
      let open = true;
      const takeCheckpoint = (): TrainerCheckpoint => {
        if (!open) throw new Error(`the checkpoint of epoch ${epoch} can only be taken during its onEpoch call`);
        checkpoint ??= {
          version: TRAINER_CHECKPOINT_VERSION,
          algorithm: options.algorithm,
          epoch,
          epochs,
          model: modelNow(),
          optimizer: optimizer.state(),
          randomState: random.state,
        };
        return checkpoint;
      };
      try {
        await request.onEpoch({ epoch, epochs, loss }, takeCheckpoint);
      } finally {
        open = false;
      }
    }
    await yieldToEventLoop();
  }
  return modelNow();
}

function scratchStart({ table, features, classes, options }: BuiltinTrainingRequest): RunStart {
  const preprocessing = fitPreprocessing(table, features);
  const shape = { classes, hiddenUnits: options.algorithm === 'mlp' ? options.hiddenUnits : 0, layout: inputLayout(preprocessing) };
  const random = new Mulberry32(options.seed);
  const params = builtinAlgorithm(options.algorithm).initialParameters(shape, random);
  return { mode: 'from_scratch', preprocessing, shape, params, random, lossHistory: [] };
}

function warmStart(request: BuiltinTrainingRequest, model: BuiltinModel): RunStart {
  requireSameArchitecture(model, request, 'warm start');
  const shape = modelShape(model);
  const params = builtinAlgorithm(model.algorithm).parametersOf(model, shape);
  return { mode: 'fine_tune', preprocessing: model.preprocessing, shape, params, random: new Mulberry32(request.options.seed), lossHistory: [] };
}

function resumeStart(request: BuiltinTrainingRequest, checkpoint: TrainerCheckpoint): RunStart {
  const { model } = checkpoint;
  requireSameArchitecture(model, request, 'checkpoint');
  const mode: TrainingMode = request.warmStart ? 'fine_tune' : 'from_scratch';
  const mismatches: string[] = [];
  if (model.training.mode !== mode) mismatches.push(`mode ${model.training.mode} vs ${mode}`);
  if (model.training.rows !== request.table.rows) mismatches.push(`rows ${model.training.rows} vs ${request.table.rows}`);
  for (const key of ['batchSize', 'learningRate', 'l2', 'seed'] as const) {
    if (model.training.options[key] !== request.options[key]) mismatches.push(`${key} ${model.training.options[key]} vs ${request.options[key]}`);
  }
  if (checkpoint.epochs !== request.epochs) mismatches.push(`a run of ${checkpoint.epochs} epochs vs ${request.epochs}`);
  if (mismatches.length > 0) throw new Error(`checkpoint does not belong to this training run: ${mismatches.join('; ')} (checkpoint vs request)`);
  const shape = modelShape(model);
  const params = builtinAlgorithm(model.algorithm).parametersOf(model, shape);
  return {
    mode,
    preprocessing: model.preprocessing,
    shape,
    params,
    random: new Mulberry32(checkpoint.randomState),
    optimizer: checkpoint.optimizer,
    lossHistory: [...model.training.lossHistory],
  };
}

/** A warm start or checkpoint must have the request's algorithm, classes, features and hidden units. */
function requireSameArchitecture(model: BuiltinModel, request: BuiltinTrainingRequest, what: string): void {
  const { options } = request;
  if (model.algorithm !== options.algorithm) throw new Error(`${what} is a ${model.algorithm} model but the trainer is ${options.algorithm}`);
  if (model.classes !== request.classes) throw new Error(`${what} has ${model.classes} classes but the request has ${request.classes}`);
  const names = (features: readonly FeatureSpec[]) => features.map((f) => f.name).join(', ');
  if (names(model.features) !== names(request.features)) {
    throw new Error(`${what} has features [${names(model.features)}] but the request has [${names(request.features)}]`);
  }
  const describe = (f: FeatureSpec) => JSON.stringify({ kind: f.kind, sql: f.sql, maxCategories: f.kind === 'categorical' ? f.maxCategories : undefined });
  request.features.forEach((feature, i) => {
    const theirs = describe(model.features[i]!);
    const ours = describe(feature);
    if (theirs !== ours) throw new Error(`${what} has feature '${feature.name}' as ${theirs} but the request has ${ours}`);
  });
  if (model.algorithm === 'mlp' && model.hiddenUnits !== options.hiddenUnits) {
    throw new Error(`${what} has ${model.hiddenUnits} hidden units but the trainer has ${options.hiddenUnits}`);
  }
}

function trainingInfo(mode: TrainingMode, rows: number, classCounts: number[], lossHistory: number[], options: BuiltinTrainerSpec): BuiltinTrainingInfo {
  return {
    mode,
    rows,
    classCounts: [...classCounts],
    epochs: lossHistory.length,
    lossHistory: [...lossHistory],
    finalLoss: lossHistory.at(-1) ?? null,
    options: { batchSize: options.batchSize, learningRate: options.learningRate, l2: options.l2, seed: options.seed },
  };
}

function requireUniqueNames(features: readonly FeatureSpec[]): void {
  const seen = new Set<string>();
  for (const { name } of features) {
    if (seen.has(name)) throw new Error(`duplicate feature '${name}'`);
    seen.add(name);
  }
}
