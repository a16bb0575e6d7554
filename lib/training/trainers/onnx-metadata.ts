/** The training metadata a built-in model carries inside its ONNX file (metadata_props). */
import type { FeatureSpec } from '../../spec/model-spec';
import type { BuiltinAlgorithm, BuiltinTrainingInfo } from './builtin-model';

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
