/** Scores a feature table with a built-in model in float64, the reference for the ONNX export. */
import type { FeatureTable } from '../../data/feature-table';
import { builtinAlgorithm, modelShape } from './algorithm-registry';
import type { BuiltinModel } from './builtin-model';
import { encodeRows } from './encoded-rows';

/**
 * Class probabilities, row-major: out[row · K + c] = P(class c | row). Missing numeric
 * values score as the training mean; unseen, null and "" categories as "other".
 */
export function predictBuiltinModel(model: BuiltinModel, table: FeatureTable): Float64Array {
  const shape = modelShape(model);
  const definition = builtinAlgorithm(model.algorithm);
  const kernel = definition.createKernel(shape, definition.parametersOf(model, shape));
  const out = new Float64Array(table.rows * model.classes);
  kernel.predict(encodeRows(table, model.preprocessing), out);
  return out;
}
