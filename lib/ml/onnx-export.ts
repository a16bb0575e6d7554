/**
 * ONNX export of built-in models: the contract's names (see trainers/onnx-contract) and the
 * binary entry point kept for callers that predate `exportBuiltinModelToOnnx`.
 */
import { exportBuiltinModelToOnnx } from './trainers/builtin-onnx-export';
import type { LogisticRegressionModel } from './trainers/builtin-model';

export { LABEL_OUTPUT, PROBABILITIES_OUTPUT, RETRAIN_METADATA_KEY, type RetrainOnnxMetadata } from './trainers/onnx-contract';
export { exportBuiltinModelToOnnx } from './trainers/builtin-onnx-export';

/** Serialized ModelProto of a logistic regression; the same as exportBuiltinModelToOnnx. */
export function exportLogisticRegressionToOnnx(model: LogisticRegressionModel): Uint8Array {
  return exportBuiltinModelToOnnx(model);
}
