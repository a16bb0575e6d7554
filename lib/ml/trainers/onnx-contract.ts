/**
 * The ONNX contract every model Retrain scores follows, built-in or external: one input
 * per feature, named as the feature, shape [N, 1], tensor(float) for numeric (NaN =
 * missing) and tensor(string) for categorical ("" = missing); outputs `probabilities`
 * float [N, K] and `label` int64 [N] (the argmax).
 */
import type { FeatureSpec } from '../../config/model-spec';
import type { BuiltinAlgorithm, BuiltinTrainingInfo } from './builtin-model';

/** Output names every Retrain-scored ONNX model provides. */
export const PROBABILITIES_OUTPUT = 'probabilities';
export const LABEL_OUTPUT = 'label';

/** Key of the JSON training metadata in the model's metadata_props. */
export const RETRAIN_METADATA_KEY = 'retrain';

/** What the "retrain" metadata entry of a built-in model holds: enough to check a feature table against the model without its JSON form. */
export interface RetrainOnnxMetadata {
  algorithm: BuiltinAlgorithm;
  classes: number;
  features: FeatureSpec[];
  /** Present for the MLP. */
  hiddenUnits?: number;
  /** Categories kept per categorical feature, not counting "other". */
  vocabularySizes: Record<string, number>;
  training: Omit<BuiltinTrainingInfo, 'lossHistory'>;
}
