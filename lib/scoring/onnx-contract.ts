/**
 * The ONNX contract every model Retrain scores follows, built-in or external: one input
 * per feature, named as the feature, shape [N, 1], tensor(float) for numeric (NaN =
 * missing) and tensor(string) for categorical ("" = missing); outputs `probabilities`
 * float [N, K] and `label` int64 [N] (the argmax).
 */

/** Output names every Retrain-scored ONNX model provides. */
export const PROBABILITIES_OUTPUT = 'probabilities';
export const LABEL_OUTPUT = 'label';
