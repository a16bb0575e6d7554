/**
 * Exports a built-in model to a self-contained ONNX model (ir 8, opsets ai.onnx 17 and
 * ai.onnx.ml 3) that scores raw feature values under the contract of onnx-contract:
 * imputation, standardization and vocabularies are part of the graph.
 *
 * Graph: numeric inputs → Concat → NaN to mean (IsNaN + Where) → (x - mean) / std → MatMul;
 * each categorical input → LabelEncoder (vocabulary index, unseen → "other") → Gather of
 * its weight rows; Sum with the bias gives the logits (logistic regression) or the hidden
 * pre-activations (MLP: → Relu → MatMul → Add); then Softmax and ArgMax. The reference
 * class's constant logit 0 is written out as a column of zeros in the last layer.
 */
import onnxProto from 'onnx-proto';
import { modelShape } from './algorithm-registry';
import type { BuiltinModel } from './builtin-model';
import { LABEL_OUTPUT, PROBABILITIES_OUTPUT } from '../../scoring/onnx-contract';
import { RETRAIN_METADATA_KEY, type RetrainOnnxMetadata } from './onnx-metadata';

const { onnx } = onnxProto;

const IR_VERSION = 8;
const ONNX_OPSET = 17;
const ONNX_ML_OPSET = 3;
const ML_DOMAIN = 'ai.onnx.ml';
/** Internal value names carry a prefix that snake_case feature names cannot contain. */
const INTERNAL = 'retrain/';

type TensorProto = InstanceType<typeof onnx.TensorProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;

const utf8 = new TextEncoder();

/** Serialized ModelProto of `model`; its probabilities match predictBuiltinModel to float32 precision. */
export function exportBuiltinModelToOnnx(model: BuiltinModel): Uint8Array {
  for (const { name } of model.features) {
    if (name === PROBABILITIES_OUTPUT || name === LABEL_OUTPUT) {
      throw new Error(`feature '${name}' cannot be exported to ONNX: the name is taken by a model output`);
    }
  }
  const shape = modelShape(model);
  const initializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const { preprocessing } = model;
  // The first layer's rows: K logits (class 0's fixed at 0) or H hidden units.
  const first = model.algorithm === 'mlp' ? model.weights.hidden : withReferenceLogits(model.weights);
  const width = model.algorithm === 'mlp' ? model.hiddenUnits : model.classes;
  const terms: string[] = [];

  if (preprocessing.numeric.length > 0) {
    const p = preprocessing.numeric.length;
    const v = (name: string) => `${INTERNAL}numeric_${name}`;
    initializers.push(
      floatTensor(v('mean'), [1, p], preprocessing.numeric.map((f) => f.mean)),
      floatTensor(v('std'), [1, p], preprocessing.numeric.map((f) => f.std)),
      floatTensor(v('weights'), [p, width], first.numeric.flat()),
    );
    nodes.push(
      node('Concat', preprocessing.numeric.map((f) => f.name), [v('raw')], [intAttribute('axis', 1)]),
      node('IsNaN', [v('raw')], [v('missing')]),
      node('Where', [v('missing'), v('mean'), v('raw')], [v('imputed')]),
      node('Sub', [v('imputed'), v('mean')], [v('centered')]),
      node('Div', [v('centered'), v('std')], [v('standardized')]),
      node('MatMul', [v('standardized'), v('weights')], [v('term')]),
    );
    terms.push(v('term'));
  }

  if (preprocessing.categorical.length > 0) initializers.push(int64Tensor(`${INTERNAL}axis_1`, [1], [1]));
  preprocessing.categorical.forEach((feature, k) => {
    const v = (name: string) => `${INTERNAL}categorical_${feature.name}_${name}`;
    const other = feature.categories.length;
    // LabelEncoder needs at least one key; with an empty vocabulary "" (missing) maps to "other", as every value does.
    const keys = other > 0 ? feature.categories : [''];
    const values = other > 0 ? feature.categories.map((_, i) => i) : [0];
    initializers.push(floatTensor(v('weights'), [other + 1, width], first.categorical[k]!.flat()));
    nodes.push(
      node('LabelEncoder', [feature.name], [v('index')], [stringsAttribute('keys_strings', keys), intsAttribute('values_int64s', values), intAttribute('default_int64', other)], ML_DOMAIN),
      node('Squeeze', [v('index'), `${INTERNAL}axis_1`], [v('row')]),
      // Gather of a [V+1, width] matrix with [N] indices gives [N, width]: one-hot × matrix.
      node('Gather', [v('weights'), v('row')], [v('term')], [intAttribute('axis', 0)]),
    );
    terms.push(v('term'));
  });

  initializers.push(floatTensor(`${INTERNAL}bias`, [width], first.bias));
  const logits = `${INTERNAL}logits`;
  if (model.algorithm === 'mlp') {
    const output = withReferenceLogits({ numeric: model.weights.output.weights, categorical: [], bias: model.weights.output.bias });
    initializers.push(
      floatTensor(`${INTERNAL}output_weights`, [model.hiddenUnits, model.classes], output.numeric.flat()),
      floatTensor(`${INTERNAL}output_bias`, [model.classes], output.bias),
    );
    nodes.push(
      node('Sum', [...terms, `${INTERNAL}bias`], [`${INTERNAL}hidden_input`]),
      node('Relu', [`${INTERNAL}hidden_input`], [`${INTERNAL}hidden`]),
      node('MatMul', [`${INTERNAL}hidden`, `${INTERNAL}output_weights`], [`${INTERNAL}output_term`]),
      node('Add', [`${INTERNAL}output_term`, `${INTERNAL}output_bias`], [logits]),
    );
  } else {
    nodes.push(node('Sum', [...terms, `${INTERNAL}bias`], [logits]));
  }
  nodes.push(
    node('Softmax', [logits], [PROBABILITIES_OUTPUT], [intAttribute('axis', 1)]),
    node('ArgMax', [PROBABILITIES_OUTPUT], [LABEL_OUTPUT], [intAttribute('axis', 1), intAttribute('keepdims', 0)]),
  );

  const numericNames = new Set(preprocessing.numeric.map((f) => f.name));
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [
      { domain: '', version: ONNX_OPSET },
      { domain: ML_DOMAIN, version: ONNX_ML_OPSET },
    ],
    producerName: 'retrain',
    producerVersion: '2',
    docString: `Retrain built-in ${model.algorithm} (${shape.classes} classes); inputs are raw feature values.`,
    graph: {
      name: model.algorithm,
      node: nodes,
      initializer: initializers,
      input: model.features.map((f) => valueInfo(f.name, numericNames.has(f.name) ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.STRING, ['N', 1])),
      output: [valueInfo(PROBABILITIES_OUTPUT, onnx.TensorProto.DataType.FLOAT, ['N', model.classes]), valueInfo(LABEL_OUTPUT, onnx.TensorProto.DataType.INT64, ['N'])],
    },
    metadataProps: [{ key: RETRAIN_METADATA_KEY, value: JSON.stringify(retrainMetadata(model)) }],
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Layer weights whose rows hold L = K - 1 logits, with class 0's constant 0 put in front. */
function withReferenceLogits(weights: { numeric: number[][]; categorical: number[][][]; bias: number[] }): { numeric: number[][]; categorical: number[][][]; bias: number[] } {
  const widen = (row: number[]) => [0, ...row];
  return { numeric: weights.numeric.map(widen), categorical: weights.categorical.map((matrix) => matrix.map(widen)), bias: widen(weights.bias) };
}

function retrainMetadata(model: BuiltinModel): RetrainOnnxMetadata {
  const { lossHistory: _lossHistory, ...training } = model.training;
  return {
    algorithm: model.algorithm,
    classes: model.classes,
    features: model.features,
    ...(model.algorithm === 'mlp' ? { hiddenUnits: model.hiddenUnits } : {}),
    vocabularySizes: Object.fromEntries(model.preprocessing.categorical.map((f) => [f.name, f.categories.length])),
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

function floatTensor(name: string, dims: number[], values: readonly number[]): TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...values] });
}

function int64Tensor(name: string, dims: number[], values: readonly number[]): TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] });
}

function node(opType: string, input: string[], output: string[], attribute: InstanceType<typeof onnx.AttributeProto>[] = [], domain = ''): NodeProto {
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
