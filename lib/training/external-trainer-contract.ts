import type { FeatureSpec } from '../spec/model-spec';

/**
 * What Retrain hands an external trainer (see docs/external-trainer.md): a JSON file
 * whose path is in RETRAIN_CONTRACT. The version changes whenever a field changes
 * meaning or disappears; fields may be added within a version.
 */
export const EXTERNAL_TRAINER_CONTRACT_VERSION = 1;

export type TrainingMode = 'from_scratch' | 'fine_tune';

/** A feature as the trainer sees it; `maxCategories` is a hint for categorical encoders. */
export interface ContractFeature {
  name: string;
  kind: FeatureSpec['kind'];
  maxCategories?: number;
}

export interface ExternalTrainerContract {
  contractVersion: typeof EXTERNAL_TRAINER_CONTRACT_VERSION;
  /** The model's name (its spec's `name`). */
  model: string;
  /** fine_tune only when the spec says `supportsWarmStart` and there is a warm-start model. */
  mode: TrainingMode;
  /**
   * Absolute path of one Parquet file: a column per feature, named as the feature
   * (numeric: DOUBLE, categorical: VARCHAR, missing: null), and the label column
   * (INTEGER 0/1, never null). Rows are in a deterministic order.
   */
  trainingData: string;
  features: ContractFeature[];
  /** Name of the label column in trainingData. */
  label: string;
  /** Where the trainer must write its results; the directory exists and is empty. */
  output: { dir: string; model: string; metrics: string };
  /** The spec's `training.trainer.hyperparameters`, untouched. */
  hyperparameters: Record<string, unknown>;
  /** The champion's ONNX model to start from when fine-tuning; null otherwise. */
  warmStartModel: string | null;
  /** Seed for anything random in training. */
  seed: number;
}

/** The run-specific part of the contract, chosen by the caller; hyperparameters and output paths are filled in by the runner. */
export interface ExternalTrainerInput {
  model: string;
  mode: TrainingMode;
  trainingData: string;
  features: readonly FeatureSpec[];
  label: string;
  warmStartModel: string | null;
  seed: number;
}

export function buildContract(input: ExternalTrainerInput, hyperparameters: Record<string, unknown>, outputDir: string, files: { model: string; metrics: string }): ExternalTrainerContract {
  return {
    contractVersion: EXTERNAL_TRAINER_CONTRACT_VERSION,
    model: input.model,
    mode: input.mode,
    trainingData: input.trainingData,
    features: input.features.map((f) => (f.kind === 'categorical' ? { name: f.name, kind: f.kind, maxCategories: f.maxCategories } : { name: f.name, kind: f.kind })),
    label: input.label,
    output: { dir: outputDir, model: files.model, metrics: files.metrics },
    hyperparameters,
    warmStartModel: input.warmStartModel,
    seed: input.seed,
  };
}

/**
 * Variables the worker holds for its own services: the trainer is user code and
 * gets none of them (a spec's `env` may pass what a trainer needs explicitly).
 * Inherited RETRAIN_* variables are dropped too, so the contract's are the only ones.
 */
const WITHHELD_VARIABLE = /^(DATABASE_URL|PG[A-Z]+|S3_[A-Z_]+|AWS_[A-Z_]+|TEMPORAL_[A-Z_]+|RETRAIN_[A-Z_]+)$/;

/**
 * The trainer's environment: the worker's (minus its credentials), then the spec's
 * `env`, then the contract's variables, which a spec cannot override.
 */
export function trainerEnvironment(base: NodeJS.ProcessEnv, specEnv: Readonly<Record<string, string>>, contractPath: string, contract: ExternalTrainerContract): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!WITHHELD_VARIABLE.test(name)) env[name] = value;
  return {
    ...env,
    ...specEnv,
    RETRAIN_CONTRACT: contractPath,
    RETRAIN_CONTRACT_VERSION: String(contract.contractVersion),
    RETRAIN_MODE: contract.mode,
    RETRAIN_TRAINING_DATA: contract.trainingData,
    RETRAIN_OUTPUT_DIR: contract.output.dir,
    RETRAIN_MODEL_OUTPUT: contract.output.model,
    RETRAIN_METRICS_OUTPUT: contract.output.metrics,
    RETRAIN_WARM_START_MODEL: contract.warmStartModel ?? '',
    RETRAIN_SEED: String(contract.seed),
  };
}
