/**
 * The JSON form of a model trained by the built-in trainers. A model carries its own
 * preprocessing (standardization, vocabularies), so it can be fine-tuned, scored and
 * exported to ONNX without the training data. Stored in S3 next to the ONNX artifact and
 * parsed with `parseBuiltinModel` when read back (e.g. as a warm start).
 */
import { z } from 'zod';
import { BuiltinTrainerSpec, FeatureSpec } from '../../spec/model-spec';

export const BuiltinAlgorithm = BuiltinTrainerSpec.shape.algorithm.unwrap();
export type BuiltinAlgorithm = z.infer<typeof BuiltinAlgorithm>;

/** z = (x - mean) / std with training statistics; a missing value (NaN) becomes z = 0, i.e. the mean. */
export const NumericStandardization = z.object({
  name: z.string(),
  mean: z.number(),
  std: z.number().positive(),
});
export type NumericStandardization = z.infer<typeof NumericStandardization>;

/**
 * The most frequent values of a categorical feature; value `categories[i]` has index i and
 * index `categories.length` is the shared "other" bucket (unseen values, null and "").
 */
export const CategoricalVocabulary = z.object({
  name: z.string(),
  maxCategories: z.number().int().positive(),
  categories: z.array(z.string()),
});
export type CategoricalVocabulary = z.infer<typeof CategoricalVocabulary>;

/** Numeric and categorical features, each in the order of the model spec's feature list. */
export const FeaturePreprocessing = z.object({
  numeric: z.array(NumericStandardization),
  categorical: z.array(CategoricalVocabulary),
});
export type FeaturePreprocessing = z.infer<typeof FeaturePreprocessing>;

export const TrainingMode = z.enum(['from_scratch', 'fine_tune']);
export type TrainingMode = z.infer<typeof TrainingMode>;

/** How the weights came about. A fine-tuned model describes only its fine-tuning run. */
export const BuiltinTrainingInfo = z.object({
  mode: TrainingMode,
  rows: z.number().int().nonnegative(),
  /** Rows per class index in the training table. */
  classCounts: z.array(z.number().int().nonnegative()),
  /** Epochs run, including any run before a resume. */
  epochs: z.number().int().nonnegative(),
  /** Mean training log loss (without the L2 term) after each epoch. */
  lossHistory: z.array(z.number()),
  /** The last entry of lossHistory; null only before the first epoch (a checkpoint never has that). */
  finalLoss: z.number().nullable(),
  options: BuiltinTrainerSpec.pick({ batchSize: true, learningRate: true, l2: true, seed: true }),
});
export type BuiltinTrainingInfo = z.infer<typeof BuiltinTrainingInfo>;

/** Weight rows of the inputs: one per numeric feature, and per categorical feature one per vocabulary index (+ "other"). */
const InputWeights = z.object({
  /** [numeric feature][unit] */
  numeric: z.array(z.array(z.number())),
  /** [categorical feature][vocabulary index][unit]; equivalent to one-hot × matrix. */
  categorical: z.array(z.array(z.array(z.number()))),
});

/** Softmax regression: logit_c = bias[c] + Σ_j numeric[j][c]·z_j + Σ_k categorical[k][index_k][c]. */
export const LogisticRegressionModel = z.object({
  algorithm: z.literal('logistic_regression'),
  classes: z.number().int().min(2),
  features: z.array(FeatureSpec),
  preprocessing: FeaturePreprocessing,
  weights: InputWeights.extend({ bias: z.array(z.number()) }),
  training: BuiltinTrainingInfo,
});
export type LogisticRegressionModel = z.infer<typeof LogisticRegressionModel>;

/**
 * One hidden ReLU layer: h = relu(hidden.bias + Σ numeric rows · z + Σ categorical rows),
 * logit_c = output.bias[c] + Σ_u h_u · output.weights[u][c].
 */
export const MlpModel = z.object({
  algorithm: z.literal('mlp'),
  classes: z.number().int().min(2),
  features: z.array(FeatureSpec),
  preprocessing: FeaturePreprocessing,
  hiddenUnits: z.number().int().positive(),
  weights: z.object({
    hidden: InputWeights.extend({ bias: z.array(z.number()) }),
    /** [hidden unit][class] */
    output: z.object({ weights: z.array(z.array(z.number())), bias: z.array(z.number()) }),
  }),
  training: BuiltinTrainingInfo,
});
export type MlpModel = z.infer<typeof MlpModel>;

export const BuiltinModel = z.discriminatedUnion('algorithm', [LogisticRegressionModel, MlpModel]);
export type BuiltinModel = z.infer<typeof BuiltinModel>;

/**
 * Parses a model read from outside (S3, a file). Shapes are checked against the
 * preprocessing when the model is used, with errors that name the mismatching part.
 */
export function parseBuiltinModel(input: unknown, origin = 'built-in model'): BuiltinModel {
  const result = BuiltinModel.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid ${origin}: ${problems}`);
  }
  return result.data;
}
