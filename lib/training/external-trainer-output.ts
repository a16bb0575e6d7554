import { readFile } from 'node:fs/promises';
import { quotedIdentifier, quotedString } from '@duckdb/node-api';
import type { FeatureSpec } from '../spec/model-spec';
import { queryColumns, withDuckDB } from '../data/duckdb';
import { InvalidTrainerOutputError } from './external-trainer-errors';
import type { FeatureTable } from '../data/feature-table';
import type { OnnxInputType } from '../scoring/onnx-contract';
import { loadOnnxScorer } from '../scoring/onnx-scorer';

/** Input element types a feature of each kind may be fed as. */
const ACCEPTED_INPUT_TYPES: Readonly<Record<FeatureSpec['kind'], readonly OnnxInputType[]>> = {
  numeric: ['float32', 'float64', 'int64'],
  categorical: ['string'],
};

export interface TrainerOutputFiles {
  model: string;
  metrics: string;
  /** The feature Parquet the trainer was given; its first rows are scored as a smoke test. */
  trainingData: string;
  features: readonly FeatureSpec[];
  /** Rows scored (default 64). */
  sampleRows?: number;
}

/**
 * Checks what an external trainer wrote against the contract: an ONNX model that
 * onnxruntime loads, with one input per feature of a matching type, a probabilities
 * output, and probabilities in [0, 1] for the first training rows; and a metrics
 * file holding a JSON object. Any breach is an InvalidTrainerOutputError naming it.
 */
export async function validateTrainerOutput(files: TrainerOutputFiles): Promise<{ metrics: Record<string, unknown> }> {
  const bytes = await readOutput(files.model, 'model');
  if (bytes.byteLength === 0) throw new InvalidTrainerOutputError(`the trainer's model ${files.model} is empty`);

  const scorer = await loadOnnxScorer(bytes).catch((err: unknown) => {
    throw new InvalidTrainerOutputError(`the trainer's model ${files.model} cannot be used by onnxruntime: ${(err as Error).message}`, { cause: err });
  });
  try {
    const featureNames = files.features.map((f) => f.name);
    for (const feature of files.features) {
      const input = scorer.inputs.find((i) => i.name === feature.name);
      if (!input) {
        throw new InvalidTrainerOutputError(
          `the trainer's model has no input for ${feature.kind} feature '${feature.name}' (model inputs: ${scorer.inputNames.join(', ') || 'none'})`,
        );
      }
      const accepted = ACCEPTED_INPUT_TYPES[feature.kind];
      if (!accepted.includes(input.type)) {
        throw new InvalidTrainerOutputError(
          `the trainer's model input '${input.name}' has type ${input.type}; ${feature.kind} feature '${feature.name}' needs ${accepted.join(' or ')}`,
        );
      }
    }
    const extra = scorer.inputNames.filter((name) => !featureNames.includes(name));
    if (extra.length > 0) {
      throw new InvalidTrainerOutputError(`the trainer's model has inputs that are not features: ${extra.join(', ')} (features: ${featureNames.join(', ')})`);
    }

    const sample = await readFeatureSample(files.trainingData, files.features, files.sampleRows ?? 64);
    const scores = await scorer.scorePositive(sample).catch((err: unknown) => {
      throw new InvalidTrainerOutputError(`the trainer's model fails to score ${sample.rows} training rows: ${(err as Error).message}`, { cause: err });
    });
    const bad = scores.findIndex((p) => !(p >= 0 && p <= 1));
    if (bad >= 0) {
      throw new InvalidTrainerOutputError(`the trainer's model gives probability ${scores[bad]} for training row ${bad}; '${scorer.probabilitiesOutput}' must hold probabilities in [0, 1]`);
    }
  } finally {
    await scorer.release();
  }

  const text = new TextDecoder().decode(await readOutput(files.metrics, 'metrics'));
  let metrics: unknown;
  try {
    metrics = JSON.parse(text);
  } catch (err) {
    throw new InvalidTrainerOutputError(`the trainer's metrics ${files.metrics} are not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
    const what = Array.isArray(metrics) ? 'an array' : metrics === null ? 'null' : `a ${typeof metrics}`;
    throw new InvalidTrainerOutputError(`the trainer's metrics ${files.metrics} must hold a JSON object, not ${what}`);
  }
  return { metrics: metrics as Record<string, unknown> };
}

async function readOutput(file: string, what: 'model' | 'metrics'): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidTrainerOutputError(`the trainer exited with code 0 but wrote no ${what} file at ${file} (contract output.${what})`);
    }
    throw err;
  }
}

/** The first `limit` rows of a feature Parquet file (see feature-parquet-writer) as a feature table, without the label. */
export async function readFeatureSample(file: string, features: readonly FeatureSpec[], limit: number): Promise<FeatureTable> {
  const select = features.map((f) => `CAST(${quotedIdentifier(f.name)} AS ${f.kind === 'numeric' ? 'DOUBLE' : 'VARCHAR'}) AS ${quotedIdentifier(f.name)}`);
  const columns = await withDuckDB((connection) =>
    queryColumns(connection, `SELECT ${select.join(', ')} FROM read_parquet(${quotedString(file)}) LIMIT ${Math.max(0, Math.floor(limit))}`),
  );
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  let rows = 0;
  for (const feature of features) {
    const values = columns[feature.name] ?? [];
    rows = values.length;
    if (feature.kind === 'numeric') numeric[feature.name] = Float64Array.from(values, (v) => (typeof v === 'number' ? v : Number.NaN));
    else categorical[feature.name] = values.map((v) => (typeof v === 'string' ? v : null));
  }
  return { rows, numeric, categorical };
}
