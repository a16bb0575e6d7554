/**
 * Scores a feature table with any ONNX binary classifier that follows the Retrain contract
 * (see onnx-export): one [N, 1] input per feature and a `probabilities` [N, 2] output.
 */
import * as ort from 'onnxruntime-node';
import type { FeatureTable } from './feature-table';
import { PROBABILITIES_OUTPUT } from './onnx-export';

export interface OnnxScorer {
  /** Feature names the model needs, in the model's input order. */
  readonly inputNames: readonly string[];
  /** P(positive) for every row, taken from `probabilities[:, 1]`; runs the model `batchSize` rows at a time. */
  scorePositive(table: FeatureTable, batchSize?: number): Promise<Float64Array>;
  /** Frees the native session; the scorer cannot be used afterwards. */
  release(): Promise<void>;
}

/** How one model input is fed: its element type and whether it is [N, 1] or [N]. */
interface InputPlan {
  name: string;
  kind: 'float32' | 'float64' | 'string';
  rank: 1 | 2;
}

/** Opens an ONNX model held in memory (e.g. an artifact just read from S3). */
export async function loadOnnxScorer(bytes: Uint8Array): Promise<OnnxScorer> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const plans = session.inputMetadata.map(inputPlan);
    if (!session.outputNames.includes(PROBABILITIES_OUTPUT)) {
      throw new Error(`ONNX model has no '${PROBABILITIES_OUTPUT}' output (outputs: ${session.outputNames.join(', ')})`);
    }
    return createScorer(session, plans);
  } catch (err) {
    await session.release();
    throw err;
  }
}

function inputPlan(meta: ort.InferenceSession.ValueMetadata): InputPlan {
  if (!meta.isTensor) throw new Error(`ONNX input '${meta.name}' is not a tensor; only tensor inputs are supported`);
  const kind = meta.type === 'float32' || meta.type === 'float64' || meta.type === 'string' ? meta.type : undefined;
  if (!kind) throw new Error(`ONNX input '${meta.name}' has type ${meta.type}; supported: float32, float64, string`);
  // A model without declared shapes gets the contract's [N, 1].
  return { name: meta.name, kind, rank: meta.shape.length === 1 ? 1 : 2 };
}

function createScorer(session: ort.InferenceSession, plans: readonly InputPlan[]): OnnxScorer {
  return {
    inputNames: plans.map((p) => p.name),

    async scorePositive(table: FeatureTable, batchSize = 8192): Promise<Float64Array> {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
      const columns = plans.map((plan) => requireColumn(table, plan));
      const scores = new Float64Array(table.rows);
      for (let start = 0; start < table.rows; start += batchSize) {
        const end = Math.min(table.rows, start + batchSize);
        const n = end - start;
        const feeds: Record<string, ort.Tensor> = {};
        for (const input of columns) {
          const dims = input.plan.rank === 1 ? [n] : [n, 1];
          if (input.kind === 'string') {
            // The contract's missing categorical value is "", which no vocabulary contains.
            feeds[input.plan.name] = new ort.Tensor('string', input.values.slice(start, end).map((v) => v ?? ''), dims);
          } else {
            const values = input.values.subarray(start, end);
            feeds[input.plan.name] = input.plan.kind === 'float32' ? new ort.Tensor('float32', Float32Array.from(values), dims) : new ort.Tensor('float64', values.slice(), dims);
          }
        }
        const results = await session.run(feeds, [PROBABILITIES_OUTPUT]);
        const probabilities = results[PROBABILITIES_OUTPUT]!;
        const [outRows, classes] = probabilities.dims;
        if (probabilities.dims.length !== 2 || outRows !== n || classes !== 2) {
          throw new Error(`'${PROBABILITIES_OUTPUT}' has shape [${probabilities.dims.join(', ')}]; expected [${n}, 2]`);
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
type InputColumn = { plan: InputPlan; kind: 'string'; values: ReadonlyArray<string | null> } | { plan: InputPlan; kind: 'number'; values: Float64Array };

function requireColumn(table: FeatureTable, plan: InputPlan): InputColumn {
  const categorical = table.categorical[plan.name];
  const numeric = table.numeric[plan.name];
  const column: InputColumn | undefined =
    plan.kind === 'string' ? categorical && { plan, kind: 'string', values: categorical } : numeric && { plan, kind: 'number', values: numeric };
  if (!column) {
    const [wanted, present] = plan.kind === 'string' ? ['categorical', numeric && 'numeric'] : ['numeric', categorical && 'categorical'];
    const hint = present ? ` (the table has it as ${present})` : '';
    throw new Error(`feature table lacks ${wanted} feature '${plan.name}' required by the ONNX model${hint}`);
  }
  if (column.values.length !== table.rows) throw new Error(`feature '${plan.name}' has ${column.values.length} values, the table has ${table.rows} rows`);
  return column;
}
