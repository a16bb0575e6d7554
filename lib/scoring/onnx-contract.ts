/**
 * The ONNX contract every model Retrain scores follows, built-in or external, worked out in
 * this one module for the gateway, batch inference and the offline evaluation:
 *
 * - Inputs: one per feature, named as the feature, rank 2 ([N, 1]) or rank 1 ([N]); a model
 *   without declared shapes gets [N, 1]. Element types: float32, float64 or int64 for a
 *   numeric feature, string for a categorical one.
 * - Missing values, the same from a FeatureTable and from request rows: a categorical one is
 *   fed as "" (no vocabulary holds it), a numeric one as NaN (the model imputes it). An int64
 *   input takes whole numbers only: a missing or fractional value is an error naming the
 *   feature and the row, never rounded.
 * - Probabilities: the output `probabilities`, else skl2onnx's `output_probability`, a float
 *   tensor [N, K] (column k = P(class k)); K is read from its declared shape when there is one
 *   and every result is checked to be [N, K]. Retrain never reads a model's `label` output
 *   (labels come from lib/stats/decision-threshold).
 * - ZipMap (skl2onnx's default, `output_probability` as a sequence of maps): onnxruntime-node
 *   1.30 cannot return a non-tensor output ("Non tensor type is temporarily not supported"),
 *   so such a model is rewritten once when it is opened (unwrapZipMap): the ZipMap node feeding
 *   the output is removed and its input, the classifier's float tensor [N, K], becomes that
 *   output. Column order follows the ZipMap's class labels, which must be the class indices
 *   0..K-1 Retrain labels with: in order they are kept as they are, permuted they are put in
 *   order with a Gather. The stored artifact is not changed.
 * - Batch size: a row scores the same alone or among others. onnxruntime computes one row
 *   differently (its GEMM's single-row path), so a single row is fed twice (fedRows).
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { FeatureTable } from '../data/feature-table';

const { onnx } = onnxProto;

/** Output names every Retrain-exported ONNX model provides. */
export const PROBABILITIES_OUTPUT = 'probabilities';
export const LABEL_OUTPUT = 'label';
/** skl2onnx's name for a classifier's probabilities: a plain tensor with ZipMap off, a sequence of maps (unwrapped at load) with it on. */
export const SKL2ONNX_PROBABILITIES_OUTPUT = 'output_probability';

/** Element types a model input may declare. */
export type OnnxInputType = 'float32' | 'float64' | 'int64' | 'string';

/** One model input as it is fed. */
export interface OnnxInput {
  readonly name: string;
  readonly type: OnnxInputType;
  /** [N] or [N, 1]; a model without declared shapes gets the contract's [N, 1]. */
  readonly rank: 1 | 2;
}

/** What a loaded model reads and where its probabilities are. */
export interface OnnxContract {
  readonly inputs: readonly OnnxInput[];
  /** `probabilities` or `output_probability`. */
  readonly probabilitiesOutput: string;
  /** K, from the output's declared shape; null when the model does not declare it (each result is then checked to have K ≥ 2 columns). */
  readonly classes: number | null;
  /** Whether the model's ZipMap was unwrapped when it was opened (see unwrapZipMap). */
  readonly unwrappedZipMap: boolean;
}

/** A feature value as a client sends it; null (or an absent key) marks a missing value. */
export type FeatureValue = number | string | null;
/** One request row: feature name → value. */
export type FeatureRow = Readonly<Record<string, FeatureValue>>;

/** An open session and its contract; release the session when done. */
export interface OnnxModel {
  readonly session: ort.InferenceSession;
  readonly contract: OnnxContract;
}

/**
 * Opens a model held in memory (an artifact just read and verified) and reads its contract. A
 * model whose probabilities are a ZipMap's sequence of maps is unwrapped first (see the module doc).
 */
export async function openOnnxModel(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions = {}): Promise<OnnxModel> {
  let session = await ort.InferenceSession.create(bytes, options);
  let unwrappedZipMap = false;
  try {
    const output = probabilitiesOutputOf(session);
    if (!output.isTensor) {
      const unwrapped = unwrapZipMap(bytes, output.name);
      const original = session;
      session = await ort.InferenceSession.create(unwrapped, options);
      await original.release();
      unwrappedZipMap = true;
    }
    return { session, contract: readOnnxContract(session, unwrappedZipMap) };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** The contract of an open session; throws naming the problem when the model does not follow it. */
export function readOnnxContract(session: ort.InferenceSession, unwrappedZipMap = false): OnnxContract {
  const inputs = session.inputMetadata.map(inputOf);
  const output = probabilitiesOutputOf(session);
  if (!output.isTensor) throw new Error(`ONNX output '${output.name}' is not a tensor; only a ZipMap's sequence of maps can be unwrapped (see openOnnxModel)`);
  if (output.type !== 'float32' && output.type !== 'float64') throw new Error(`ONNX output '${output.name}' has type ${output.type}; probabilities must be float32 or float64`);
  if (output.shape.length !== 0 && output.shape.length !== 2) throw new Error(`ONNX output '${output.name}' has rank ${output.shape.length}; probabilities are [N, K]`);
  const declared = output.shape[1];
  const classes = typeof declared === 'number' && declared > 0 ? declared : null;
  if (classes !== null && classes < 2) throw new Error(`ONNX output '${output.name}' has ${classes} column; a classifier's probabilities have one per class (K ≥ 2)`);
  return { inputs, probabilitiesOutput: output.name, classes, unwrappedZipMap };
}

/** Throws unless the model is a binary classifier (K = 2, or undeclared and checked per result), which is what Retrain serves. */
export function requireBinary(contract: OnnxContract): void {
  if (contract.classes !== null && contract.classes !== 2) {
    throw new Error(`ONNX output '${contract.probabilitiesOutput}' has ${contract.classes} classes; Retrain scores binary classifiers (K = 2)`);
  }
}

function inputOf(meta: ort.InferenceSession.ValueMetadata): OnnxInput {
  if (!meta.isTensor) throw new Error(`ONNX input '${meta.name}' is not a tensor; only tensor inputs are supported`);
  const { type } = meta;
  if (type !== 'float32' && type !== 'float64' && type !== 'int64' && type !== 'string') {
    throw new Error(`ONNX input '${meta.name}' has type ${type}; supported: float32, float64, int64, string`);
  }
  return { name: meta.name, type, rank: meta.shape.length === 1 ? 1 : 2 };
}

/** `probabilities` when the model has it, else skl2onnx's `output_probability`. */
function probabilitiesOutputOf(session: ort.InferenceSession): ort.InferenceSession.ValueMetadata {
  const byName = (name: string) => session.outputMetadata.find((m) => m.name === name);
  const output = byName(PROBABILITIES_OUTPUT) ?? byName(SKL2ONNX_PROBABILITIES_OUTPUT);
  if (!output) throw new Error(`ONNX model has no '${PROBABILITIES_OUTPUT}' output (outputs: ${session.outputNames.join(', ')})`);
  return output;
}

// ---------- building inputs ----------

/** A categorical value as fed: "" for a missing one. */
function stringValue(value: FeatureValue | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** A numeric value as fed to a float input: NaN for a missing one. */
function floatValue(value: FeatureValue | undefined): number {
  return typeof value === 'number' ? value : NaN;
}

/** A numeric value as fed to an int64 input: whole numbers only, a missing or fractional value is refused. */
function int64Value(value: FeatureValue | undefined, name: string, row: number): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    const shown = value === null || value === undefined ? 'missing' : Number.isNaN(value) ? 'NaN (missing)' : String(value);
    throw new Error(`feature '${name}' row ${row} is ${shown}; the ONNX model's int64 input takes whole numbers only (no missing values)`);
  }
  return BigInt(value);
}

/**
 * Rows a model is run on to score `rows` rows: a single row is fed twice. onnxruntime's GEMM
 * takes another path for one row (a GEMV), whose sums can differ in the last bits from the same
 * row scored among others (measured with skl2onnx's LinearClassifier: about 1 row in 10, by up
 * to 2 float32 ulps); with two rows a row scores as it does in any batch.
 */
function fedRows(rows: number): number {
  return rows === 1 ? 2 : rows;
}

/** The input tensors for rows start..end of a feature table; errors name a feature the table lacks or has with the other kind. */
export function tableFeeds(contract: OnnxContract, table: FeatureTable, start = 0, end = table.rows): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const n = end - start;
  const fed = fedRows(n);
  for (const input of contract.inputs) {
    const dims = input.rank === 1 ? [fed] : [fed, 1];
    if (input.type === 'string') {
      const column = requireColumn(table, input, table.categorical[input.name]);
      const values = new Array<string>(fed);
      for (let i = 0; i < n; i++) values[i] = stringValue(column[start + i]);
      if (fed > n) values[1] = values[0]!;
      feeds[input.name] = new ort.Tensor('string', values, dims);
      continue;
    }
    const column = requireColumn(table, input, table.numeric[input.name]).subarray(start, end);
    if (input.type === 'int64') {
      const values = new BigInt64Array(fed);
      for (let i = 0; i < n; i++) values[i] = int64Value(column[i], input.name, start + i);
      if (fed > n) values[1] = values[0]!;
      feeds[input.name] = new ort.Tensor('int64', values, dims);
    } else {
      // Table columns hold NaN for a missing value already: floatValue's rule without a per-row call.
      const values = input.type === 'float32' ? new Float32Array(fed) : new Float64Array(fed);
      values.set(column);
      if (fed > n) values[1] = values[0]!;
      feeds[input.name] = new ort.Tensor(input.type, values, dims);
    }
  }
  return feeds;
}

/** The input tensors for request rows (values validated against the features' kinds). */
export function rowFeeds(contract: OnnxContract, rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const n = rows.length;
  const fed = fedRows(n);
  for (const input of contract.inputs) {
    const dims = input.rank === 1 ? [fed] : [fed, 1];
    const { name } = input;
    switch (input.type) {
      case 'string': {
        const values = new Array<string>(fed);
        for (let i = 0; i < n; i++) values[i] = stringValue(rows[i]![name]);
        if (fed > n) values[1] = values[0]!;
        feeds[name] = new ort.Tensor('string', values, dims);
        break;
      }
      case 'float32':
      case 'float64': {
        const values = input.type === 'float32' ? new Float32Array(fed) : new Float64Array(fed);
        for (let i = 0; i < n; i++) values[i] = floatValue(rows[i]![name]);
        if (fed > n) values[1] = values[0]!;
        feeds[name] = new ort.Tensor(input.type, values, dims);
        break;
      }
      case 'int64': {
        const values = new BigInt64Array(fed);
        for (let i = 0; i < n; i++) values[i] = int64Value(rows[i]![name], name, i);
        if (fed > n) values[1] = values[0]!;
        feeds[name] = new ort.Tensor('int64', values, dims);
        break;
      }
    }
  }
  return feeds;
}

function requireColumn<T extends Float64Array | ReadonlyArray<string | null>>(table: FeatureTable, input: OnnxInput, column: T | undefined): T {
  if (!column) {
    const [wanted, other] = input.type === 'string' ? ['categorical', table.numeric[input.name] && 'numeric'] : ['numeric', table.categorical[input.name] && 'categorical'];
    const hint = other ? ` (the table has it as ${other})` : '';
    throw new Error(`feature table lacks ${wanted} feature '${input.name}' required by the ONNX model${hint}`);
  }
  if (column.length !== table.rows) throw new Error(`feature '${input.name}' has ${column.length} values, the table has ${table.rows} rows`);
  return column;
}

// ---------- reading probabilities ----------

/** The names to fetch from a run: the probabilities output only. */
export function outputNames(contract: OnnxContract): string[] {
  return [contract.probabilitiesOutput];
}

/**
 * The [rows, K] probabilities of a run on tableFeeds or rowFeeds of `rows` rows, row-major, as
 * computed (no copy; a view without the repeated row of a single-row run); throws when the
 * shape is not [rows, K].
 */
export function readProbabilities(contract: OnnxContract, results: ort.InferenceSession.ReturnType, rows: number): Float32Array | Float64Array {
  const name = contract.probabilitiesOutput;
  const output = results[name];
  if (!output) throw new Error(`the run returned no '${name}' output`);
  const [outRows, classes] = output.dims;
  const fed = fedRows(rows);
  const expected = contract.classes ?? 'K ≥ 2';
  if (output.dims.length !== 2 || outRows !== fed || classes === undefined || (contract.classes === null ? classes < 2 : classes !== contract.classes)) {
    throw new Error(`output '${name}' has shape [${output.dims.join(', ')}]; expected [${fed}, ${expected}]`);
  }
  if (output.type !== 'float32' && output.type !== 'float64') throw new Error(`output '${name}' has type ${output.type}; expected float32 or float64`);
  const data = output.data as Float32Array | Float64Array;
  return fed > rows ? data.subarray(0, rows * classes) : data;
}

/**
 * P(class 1) per row of binary [N, 2] probabilities as float64 (float32 values exactly), written
 * to `into` from `offset` (a new array by default).
 */
export function positiveProbabilities(probabilities: Float32Array | Float64Array, rows: number, into = new Float64Array(rows), offset = 0): Float64Array {
  if (probabilities.length !== 2 * rows) throw new Error(`expected ${rows} rows of 2 probabilities, got ${probabilities.length} values`);
  for (let i = 0; i < rows; i++) into[offset + i] = probabilities[2 * i + 1]!;
  return into;
}

// ---------- ZipMap ----------

type GraphProto = InstanceType<typeof onnx.GraphProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;

const ML_DOMAIN = 'ai.onnx.ml';

/**
 * The model with its ZipMap unwrapped: the ZipMap node producing graph output `output` is
 * removed, its input tensor (float [N, K]) becomes `output`, with columns in class index order
 * 0..K-1 (a Gather reorders them when the ZipMap's class labels are a permutation). Throws when
 * `output` is not a ZipMap's or its class labels are not the class indices 0..K-1.
 */
export function unwrapZipMap(bytes: Uint8Array, output: string): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  // decode() builds GraphProto and NodeProto instances (the declared types are their looser interfaces).
  const graph = model.graph as GraphProto | null;
  if (!graph) throw new Error('ONNX model has no graph');
  const graphOutput = graph.output.find((o) => o.name === output);
  const index = graph.node.findIndex((n) => (n.output ?? []).includes(output));
  const zipMap = graph.node[index] as NodeProto | undefined;
  if (!graphOutput || !zipMap || zipMap.opType !== 'ZipMap' || (zipMap.domain || '') !== ML_DOMAIN) {
    const producer = zipMap ? `${zipMap.domain ? `${zipMap.domain}.` : ''}${zipMap.opType}` : 'no node';
    throw new Error(`ONNX output '${output}' is not a tensor and is produced by ${producer}, not a ZipMap; probabilities must be a float tensor [N, K]`);
  }
  const source = zipMap.input[0];
  if (!source) throw new Error(`the ZipMap producing '${output}' has no input`);
  const labels = zipMapClassIndices(zipMap, output);
  const classes = labels.length;

  if (labels.every((label, k) => label === k)) {
    // In class order already: the ZipMap's input is renamed to the output, and the ZipMap goes.
    graph.node.splice(index, 1);
    renameValue(graph, source, output);
    graph.valueInfo = graph.valueInfo.filter((v) => v.name !== output);
  } else {
    const opset = model.opsetImport.find((o) => (o.domain || '') === '');
    if (!opset) throw new Error(`the ZipMap producing '${output}' lists classes ${labels.join(', ')}; reordering them needs the default ONNX domain, which the model does not import`);
    // Gather(axis 1) with indices[k] = the column of class k.
    const indices = `${output}/retrain_class_order`;
    graph.initializer.push(onnx.TensorProto.create({ name: indices, dims: [classes], dataType: onnx.TensorProto.DataType.INT64, int64Data: labels.map((_, k) => labels.indexOf(k)) }));
    graph.node[index] = onnx.NodeProto.create({
      opType: 'Gather',
      name: `${zipMap.name || output}/retrain_unwrapped`,
      input: [source, indices],
      output: [output],
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
  }
  graphOutput.type = onnx.TypeProto.create({
    tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: classes }] } },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The ZipMap's class labels as class indices; they must be 0..K-1 in some order. */
function zipMapClassIndices(zipMap: NodeProto, output: string): number[] {
  const attribute = (name: string) => zipMap.attribute.find((a) => a.name === name);
  const ints = attribute('classlabels_int64s');
  const strings = attribute('classlabels_strings');
  const decoder = new TextDecoder();
  const shown = ints ? (ints.ints ?? []).map((v) => String(v)) : (strings?.strings ?? []).map((s) => decoder.decode(s));
  const labels = shown.map((label) => (/^(0|[1-9][0-9]*)$/.test(label) ? Number(label) : NaN));
  const inOrder = [...labels].sort((a, b) => a - b);
  if (labels.length < 2 || !inOrder.every((label, k) => label === k)) {
    throw new Error(
      `the ZipMap producing '${output}' has class labels [${shown.map((s) => JSON.stringify(s)).join(', ')}]; ` +
        `Retrain's labels are the class indices 0..K-1 (binary: 0 and 1), so the classifier must be trained on them`,
    );
  }
  return labels;
}

/** Renames value `from` to `to` in every node of the graph and of its subgraphs, and in its value infos. */
function renameValue(graph: GraphProto, from: string, to: string): void {
  const rename = (names: string[] | null | undefined) => (names ?? []).map((name) => (name === from ? to : name));
  for (const node of graph.node) {
    node.input = rename(node.input);
    node.output = rename(node.output);
    for (const attribute of node.attribute ?? []) {
      if (attribute.g) renameValue(attribute.g as GraphProto, from, to);
      for (const g of attribute.graphs ?? []) renameValue(g as GraphProto, from, to);
    }
  }
  for (const info of graph.valueInfo) if (info.name === from) info.name = to;
}
