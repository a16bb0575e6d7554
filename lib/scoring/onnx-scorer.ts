/**
 * Scores a feature table with any ONNX binary classifier that follows the Retrain contract
 * (onnx-contract: inputs, missing values, the probabilities output, ZipMap models unwrapped at
 * load): the offline evaluation's, batch inference's and the trainer-output check's path.
 */
import type * as ort from 'onnxruntime-node';
import type { FeatureTable } from '../data/feature-table';
import { openOnnxModel, outputNames, positiveProbabilities, readProbabilities, requireBinary, tableFeeds, type OnnxContract, type OnnxInput } from './onnx-contract';

export interface OnnxScorer {
  /** Feature names the model needs, in the model's input order. */
  readonly inputNames: readonly string[];
  /** The same inputs with the element type each is fed as. */
  readonly inputs: readonly OnnxInput[];
  /** The output the probabilities are read from: `probabilities` or `output_probability`. */
  readonly probabilitiesOutput: string;
  /** The model's full contract (e.g. whether a ZipMap was unwrapped). */
  readonly contract: OnnxContract;
  /** P(positive) for every row, taken from `probabilities[:, 1]`; runs the model `batchSize` rows at a time. */
  scorePositive(table: FeatureTable, batchSize?: number): Promise<Float64Array>;
  /** Frees the native session; the scorer cannot be used afterwards. */
  release(): Promise<void>;
}

/** Opens an ONNX model held in memory (e.g. an artifact just read from S3). */
export async function loadOnnxScorer(bytes: Uint8Array): Promise<OnnxScorer> {
  const { session, contract } = await openOnnxModel(bytes);
  try {
    requireBinary(contract);
    return createScorer(session, contract);
  } catch (err) {
    await session.release();
    throw err;
  }
}

function createScorer(session: ort.InferenceSession, contract: OnnxContract): OnnxScorer {
  const fetches = outputNames(contract);
  return {
    inputNames: contract.inputs.map((p) => p.name),
    inputs: contract.inputs,
    probabilitiesOutput: contract.probabilitiesOutput,
    contract,

    async scorePositive(table: FeatureTable, batchSize = 8192): Promise<Float64Array> {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
      // Checks every column before the first run, so a missing feature fails at once.
      tableFeeds(contract, table, 0, 0);
      const scores = new Float64Array(table.rows);
      for (let start = 0; start < table.rows; start += batchSize) {
        const end = Math.min(table.rows, start + batchSize);
        const results = await session.run(tableFeeds(contract, table, start, end), fetches);
        positiveProbabilities(readProbabilities(contract, results, end - start), end - start, scores, start);
      }
      return scores;
    },

    async release(): Promise<void> {
      await session.release();
    },
  };
}
