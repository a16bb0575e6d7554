/**
 * Exports a built-in logistic regression to a self-contained ONNX model that scores raw
 * feature values: standardization, imputation and vocabularies are part of the graph.
 *
 * Contract: one input per feature, named as the feature, shape [N, 1]: tensor(float) for
 * numeric (NaN = missing), tensor(string) for categorical ("" = missing). Outputs
 * `probabilities` float [N, 2] (P(negative), P(positive)) and `label` int64 [N].
 */
import onnxProto from 'onnx-proto';
import type { LogisticRegressionModel } from './logistic-regression';

const { onnx } = onnxProto;

/** Key of the JSON training metadata in the model's metadata_props. */
export const RETRAIN_METADATA_KEY = 'retrain';

/** Output names every Retrain-scored ONNX model provides. */
export const PROBABILITIES_OUTPUT = 'probabilities';
export const LABEL_OUTPUT = 'label';

const IR_VERSION = 8;
const ONNX_OPSET = 17;
const ONNX_ML_OPSET = 3;
const ML_DOMAIN = 'ai.onnx.ml';
/** Internal value names carry a prefix that snake_case feature names cannot contain. */
const INTERNAL = 'retrain/';

const utf8 = new TextEncoder();

/** Serialized ModelProto (ir_version 8, opsets ai.onnx 17 and ai.onnx.ml 3). */
export function exportLogisticRegressionToOnnx(model: LogisticRegressionModel): Uint8Array {
  for (const name of model.featureNames) {
    if (name === PROBABILITIES_OUTPUT || name === LABEL_OUTPUT) {
      throw new Error(`feature '${name}' cannot be exported to ONNX: the name is taken by a model output`);
    }
  }
  const numericByName = new Map(model.numeric.map((f) => [f.name, f]));
  const categoricalByName = new Map(model.categorical.map((f) => [f.name, f]));

  const inputs = model.featureNames.map((name) => {
    if (numericByName.has(name)) return valueInfo(name, onnx.TensorProto.DataType.FLOAT, ['N', 1]);
    if (categoricalByName.has(name)) return valueInfo(name, onnx.TensorProto.DataType.STRING, ['N', 1]);
    throw new Error(`feature '${name}' has no weights in the model`);
  });
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const logitTerms: string[] = [];

  if (model.numeric.length > 0) {
    // Concatenate numeric inputs to [N, p], impute NaN with the mean, standardize, then one MatMul.
    const p = model.numeric.length;
    const v = (name: string) => `${INTERNAL}numeric_${name}`;
    initializers.push(
      floatTensor(v('mean'), [1, p], model.numeric.map((f) => f.mean)),
      floatTensor(v('std'), [1, p], model.numeric.map((f) => f.std)),
      floatTensor(v('weights'), [p, 1], model.numeric.map((f) => f.weight)),
    );
    nodes.push(
      node('Concat', model.numeric.map((f) => f.name), [v('raw')], [intAttribute('axis', 1)]),
      node('IsNaN', [v('raw')], [v('missing')]),
      node('Where', [v('missing'), v('mean'), v('raw')], [v('imputed')]),
      node('Sub', [v('imputed'), v('mean')], [v('centered')]),
      node('Div', [v('centered'), v('std')], [v('standardized')]),
      node('MatMul', [v('standardized'), v('weights')], [v('logit')]),
    );
    logitTerms.push(v('logit'));
  }

  for (const feature of model.categorical) {
    const v = (name: string) => `${INTERNAL}categorical_${feature.name}_${name}`;
    const other = feature.categories.length;
    // LabelEncoder needs at least one key; with an empty vocabulary "" (missing) maps to "other", as every value does.
    const keys = other > 0 ? feature.categories : [''];
    const values = other > 0 ? feature.categories.map((_, i) => i) : [0];
    initializers.push(floatTensor(v('weights'), [feature.weights.length], feature.weights));
    nodes.push(
      node('LabelEncoder', [feature.name], [v('index')], [
        stringsAttribute('keys_strings', keys),
        intsAttribute('values_int64s', values),
        intAttribute('default_int64', other),
      ], ML_DOMAIN),
      // Gather of a [K+1] vector with [N, 1] indices gives [N, 1].
      node('Gather', [v('weights'), v('index')], [v('logit')], [intAttribute('axis', 0)]),
    );
    logitTerms.push(v('logit'));
  }

  initializers.push(floatTensor(`${INTERNAL}bias`, [1], [model.bias]), floatTensor(`${INTERNAL}one`, [1], [1]));
  nodes.push(
    node('Sum', [...logitTerms, `${INTERNAL}bias`], [`${INTERNAL}logit`]),
    node('Sigmoid', [`${INTERNAL}logit`], [`${INTERNAL}p_positive`]),
    node('Sub', [`${INTERNAL}one`, `${INTERNAL}p_positive`], [`${INTERNAL}p_negative`]),
    node('Concat', [`${INTERNAL}p_negative`, `${INTERNAL}p_positive`], [PROBABILITIES_OUTPUT], [intAttribute('axis', 1)]),
    node('ArgMax', [PROBABILITIES_OUTPUT], [LABEL_OUTPUT], [intAttribute('axis', 1), intAttribute('keepdims', 0)]),
  );

  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [
      { domain: '', version: ONNX_OPSET },
      { domain: ML_DOMAIN, version: ONNX_ML_OPSET },
    ],
    producerName: 'retrain',
    producerVersion: '1',
    docString: 'Retrain built-in logistic regression; inputs are raw feature values.',
    graph: {
      name: 'logistic_regression',
      node: nodes,
      initializer: initializers,
      input: inputs,
      output: [
        valueInfo(PROBABILITIES_OUTPUT, onnx.TensorProto.DataType.FLOAT, ['N', 2]),
        valueInfo(LABEL_OUTPUT, onnx.TensorProto.DataType.INT64, ['N']),
      ],
    },
    metadataProps: [{ key: RETRAIN_METADATA_KEY, value: JSON.stringify(retrainMetadata(model)) }],
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** What the "retrain" metadata entry holds: enough to check a feature table against the model without the JSON model. */
export interface RetrainOnnxMetadata {
  algorithm: LogisticRegressionModel['algorithm'];
  features: LogisticRegressionModel['training']['features'];
  /** Categories kept per categorical feature, not counting "other". */
  vocabularySizes: Record<string, number>;
  training: Omit<LogisticRegressionModel['training'], 'features' | 'lossHistory'>;
}

function retrainMetadata(model: LogisticRegressionModel): RetrainOnnxMetadata {
  const { features, lossHistory: _lossHistory, ...training } = model.training;
  return {
    algorithm: model.algorithm,
    features,
    vocabularySizes: Object.fromEntries(model.categorical.map((f) => [f.name, f.categories.length])),
    training,
  };
}

function valueInfo(name: string, elemType: number, shape: ReadonlyArray<string | number>) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function floatTensor(name: string, dims: number[], values: readonly number[]) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...values] });
}

function node(opType: string, input: string[], output: string[], attribute: InstanceType<typeof onnx.AttributeProto>[] = [], domain = '') {
  return onnx.NodeProto.create({ opType, input, output, attribute, domain, name: `${INTERNAL}${output[0]?.replace(INTERNAL, '')}` });
}

function intAttribute(name: string, i: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
}

function intsAttribute(name: string, ints: number[]) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
}

function stringsAttribute(name: string, strings: readonly string[]) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRINGS, strings: strings.map((s) => utf8.encode(s)) });
}
