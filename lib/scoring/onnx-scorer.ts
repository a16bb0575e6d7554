/**
 * Scores a feature table with any ONNX binary classifier that follows the Retrain contract
 * (see onnx-export): one [N, 1] input per feature and a `probabilities` [N, 2] output.
 *
 * Models converted by skl2onnx fit the contract when ZipMap is disabled
 * (`options={'zipmap': False}`): their output is then `probabilities`, or
 * `output_probability` under some converter settings, as a float tensor. With ZipMap
 * on, `output_probability` is a sequence of maps, which is refused with that advice.
 * Inputs may be float, double, int64 (numeric features) or string (categorical).
 */
import * as ort from 'onnxruntime-node';
import type { FeatureTable } from '../data/feature-table';
import { PROBABILITIES_OUTPUT } from './onnx-contract';

/** skl2onnx's name for a classifier's probabilities; accepted when it is a plain tensor (ZipMap disabled). */
export const SKL2ONNX_PROBABILITIES_OUTPUT = 'output_probability';

/** Element types a model input may declare. */
export type OnnxInputType = 'float32' | 'float64' | 'int64' | 'string';

/** One model input as the scorer feeds it. */
export interface OnnxInput {
  readonly name: string;
  readonly type: OnnxInputType;
  /** [N] or [N, 1]; a model without declared shapes gets the contract's [N, 1]. */
  readonly rank: 1 | 2;
}

export interface OnnxScorer {
  /** Feature names the model needs, in the model's input order. */
  readonly inputNames: readonly string[];
  /** The same inputs with the element type each is fed as. */
  readonly inputs: readonly OnnxInput[];
  /** The output the probabilities are read from: `probabilities` or `output_probability`. */
  readonly probabilitiesOutput: string;
  /** P(positive) for every row, taken from `probabilities[:, 1]`; runs the model `batchSize` rows at a time. */
  scorePositive(table: FeatureTable, batchSize?: number): Promise<Float64Array>;
  /** Frees the native session; the scorer cannot be used afterwards. */
  release(): Promise<void>;
}

/** Opens an ONNX model held in memory (e.g. an artifact just read from S3). */
export async function loadOnnxScorer(bytes: Uint8Array): Promise<OnnxScorer> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const inputs = session.inputMetadata.map(inputPlan);
    return createScorer(session, inputs, probabilitiesOutput(session));
  } catch (err) {
    await session.release();
    throw err;
  }
}

function inputPlan(meta: ort.InferenceSession.ValueMetadata): OnnxInput {
  if (!meta.isTensor) throw new Error(`ONNX input '${meta.name}' is not a tensor; only tensor inputs are supported`);
  const type = meta.type === 'float32' || meta.type === 'float64' || meta.type === 'int64' || meta.type === 'string' ? meta.type : undefined;
  if (!type) throw new Error(`ONNX input '${meta.name}' has type ${meta.type}; supported: float32, float64, int64, string`);
  return { name: meta.name, type, rank: meta.shape.length === 1 ? 1 : 2 };
}

/** `probabilities` when present, else skl2onnx's `output_probability` if it is a tensor. */
function probabilitiesOutput(session: ort.InferenceSession): string {
  if (session.outputNames.includes(PROBABILITIES_OUTPUT)) return PROBABILITIES_OUTPUT;
  const skl = session.outputMetadata.find((m) => m.name === SKL2ONNX_PROBABILITIES_OUTPUT);
  if (skl?.isTensor) return skl.name;
  if (skl) {
    throw new Error(
      `ONNX output '${SKL2ONNX_PROBABILITIES_OUTPUT}' is not a tensor (a ZipMap: sequence of maps); ` +
        `convert the classifier with skl2onnx options={'zipmap': False}`,
    );
  }
  throw new Error(`ONNX model has no '${PROBABILITIES_OUTPUT}' output (outputs: ${session.outputNames.join(', ')})`);
}

function createScorer(session: ort.InferenceSession, inputs: readonly OnnxInput[], output: string): OnnxScorer {
  return {
    inputNames: inputs.map((p) => p.name),
    inputs,
    probabilitiesOutput: output,

    async scorePositive(table: FeatureTable, batchSize = 8192): Promise<Float64Array> {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
      const columns = inputs.map((input) => requireColumn(table, input));
      const scores = new Float64Array(table.rows);
      for (let start = 0; start < table.rows; start += batchSize) {
        const end = Math.min(table.rows, start + batchSize);
        const n = end - start;
        const feeds: Record<string, ort.Tensor> = {};
        for (const column of columns) feeds[column.input.name] = inputTensor(column, start, end);
        const results = await session.run(feeds, [output]);
        const probabilities = results[output]!;
        const [outRows, classes] = probabilities.dims;
        if (probabilities.dims.length !== 2 || outRows !== n || classes !== 2) {
          throw new Error(`'${output}' has shape [${probabilities.dims.join(', ')}]; expected [${n}, 2]`);
        }
        const data = probabilities.data as Float32Array | Float64Array;
        for (let i = 0; i < n; i++) scores[start + i] = data[2 * i + 1]!;
      }
      return scores;
    },

    async release(): Promise<void> {
      await session.release();
    },
  };
}

/** A table column matched to the model input it feeds. */
type InputColumn = { input: OnnxInput; kind: 'string'; values: ReadonlyArray<string | null> } | { input: OnnxInput; kind: 'number'; values: Float64Array };

function inputTensor(column: InputColumn, start: number, end: number): ort.Tensor {
  const dims = column.input.rank === 1 ? [end - start] : [end - start, 1];
  if (column.kind === 'string') {
    // The contract's missing categorical value is "", which no vocabulary contains.
    return new ort.Tensor('string', column.values.slice(start, end).map((v) => v ?? ''), dims);
  }
  const values = column.values.subarray(start, end);
  switch (column.input.type) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    case 'int64':
      return new ort.Tensor('int64', toInt64(values, column.input.name, start), dims);
    default:
      return new ort.Tensor('float64', values.slice(), dims);
  }
}

/** int64 inputs take whole numbers only: a missing (NaN) or fractional value cannot be fed without changing it. */
function toInt64(values: Float64Array, name: string, offset: number): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isSafeInteger(v)) {
      throw new Error(`feature '${name}' row ${offset + i} is ${v}; the ONNX model's int64 input takes whole numbers only (no missing values)`);
    }
    out[i] = BigInt(v);
  }
  return out;
}

function requireColumn(table: FeatureTable, input: OnnxInput): InputColumn {
  const categorical = table.categorical[input.name];
  const numeric = table.numeric[input.name];
  const column: InputColumn | undefined =
    input.type === 'string' ? categorical && { input, kind: 'string', values: categorical } : numeric && { input, kind: 'number', values: numeric };
  if (!column) {
    const [wanted, present] = input.type === 'string' ? ['categorical', numeric && 'numeric'] : ['numeric', categorical && 'categorical'];
    const hint = present ? ` (the table has it as ${present})` : '';
    throw new Error(`feature table lacks ${wanted} feature '${input.name}' required by the ONNX model${hint}`);
  }
  if (column.values.length !== table.rows) throw new Error(`feature '${input.name}' has ${column.values.length} values, the table has ${table.rows} rows`);
  return column;
}
