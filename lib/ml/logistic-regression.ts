/**
 * Binary entry point kept for callers that predate `trainBuiltinModel` (lib/ml/trainers):
 * trains the built-in softmax logistic regression with two classes (labels 0/1).
 */
import { BuiltinTrainerSpec, type FeatureSpec } from '../config/model-spec';
import type { FeatureTable } from './feature-table';
import type { LogisticRegressionModel } from './trainers/builtin-model';
import { trainBuiltinModel, type EpochProgress } from './trainers/train-builtin-model';

export type { LogisticRegressionModel } from './trainers/builtin-model';

/** Hyper-parameters of one training run; the same fields as the model spec's builtin trainer. */
export type LogisticRegressionOptions = Pick<BuiltinTrainerSpec, 'epochs' | 'batchSize' | 'learningRate' | 'l2' | 'seed'>;

/** Reported after every epoch; `loss` is the mean log loss on the whole training table (no L2 term). */
export type TrainingProgress = EpochProgress;

export interface TrainingHooks {
  /** Awaited between epochs, e.g. to heartbeat. */
  onEpoch?: (progress: TrainingProgress) => void | Promise<void>;
}

/** Trains a binary classifier from scratch on `table.label` (0/1), `options.epochs` epochs (see trainBuiltinModel). */
export async function trainLogisticRegression(
  table: FeatureTable,
  features: FeatureSpec[],
  options: LogisticRegressionOptions,
  hooks: TrainingHooks = {},
): Promise<LogisticRegressionModel> {
  const model = await trainBuiltinModel({
    table,
    features,
    classes: 2,
    options: BuiltinTrainerSpec.parse({ kind: 'builtin', algorithm: 'logistic_regression', ...options }),
    epochs: options.epochs,
    onEpoch: (progress) => hooks.onEpoch?.(progress),
  });
  if (model.algorithm !== 'logistic_regression') throw new Error(`expected a logistic regression, got ${model.algorithm}`);
  return model;
}
