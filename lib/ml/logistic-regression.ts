/**
 * The built-in trainer: binary logistic regression over numeric and categorical
 * features, trained with mini-batch Adam. The model carries its own preprocessing
 * (standardization, vocabularies) so it can be exported to ONNX and scored on raw values.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { BuiltinTrainerSpec, FeatureSpec } from '../config/model-spec';
import type { FeatureTable } from './feature-table';
import { mulberry32, shuffleInPlace } from './seeded-random';

/** Hyper-parameters of one training run; the same fields as the model spec's builtin trainer. */
export type LogisticRegressionOptions = Pick<BuiltinTrainerSpec, 'epochs' | 'batchSize' | 'learningRate' | 'l2' | 'seed'>;

/** Reported after every epoch; `loss` is the mean log loss on the whole training table (no L2 term). */
export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number;
}

export interface TrainingHooks {
  /** Awaited between epochs, e.g. to heartbeat; the trainer also yields to the event loop there. */
  onEpoch?: (progress: TrainingProgress) => void | Promise<void>;
}

/** A numeric feature is standardized with training statistics: z = (x - mean) / std; NaN becomes z = 0. */
export interface NumericFeatureWeight {
  name: string;
  mean: number;
  std: number;
  weight: number;
}

/**
 * A categorical feature: `weights[i]` belongs to `categories[i]`; the last weight is the shared
 * "other" bucket for values outside the vocabulary, null and the empty string.
 */
export interface CategoricalFeatureWeights {
  name: string;
  maxCategories: number;
  categories: string[];
  weights: number[];
}

/** A trained model as plain JSON: P(positive) = sigmoid(bias + Σ numeric + Σ categorical). */
export interface LogisticRegressionModel {
  algorithm: 'logistic_regression';
  /** Every feature in the order of the model spec. */
  featureNames: string[];
  numeric: NumericFeatureWeight[];
  categorical: CategoricalFeatureWeights[];
  bias: number;
  training: {
    features: FeatureSpec[];
    options: LogisticRegressionOptions;
    rows: number;
    /** Share of positive labels in the training table. */
    positiveRate: number;
    epochs: number;
    /** Mean training log loss after the last epoch. */
    finalLoss: number;
    lossHistory: number[];
  };
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/**
 * Trains a binary classifier on `table.label`. Deterministic for a given table, features and seed.
 * The objective is mean log loss + (l2 / 2) · ‖weights‖² (the bias is not penalized).
 */
export async function trainLogisticRegression(
  table: FeatureTable,
  features: FeatureSpec[],
  options: LogisticRegressionOptions,
  hooks: TrainingHooks = {},
): Promise<LogisticRegressionModel> {
  const labels = requireLabels(table);
  if (features.length === 0) throw new Error('cannot train logistic regression without features');
  requireUniqueNames(features);
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`epochs must be a positive integer, got ${options.epochs}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);

  const numeric: NumericFeatureWeight[] = [];
  const categorical: CategoricalFeatureWeights[] = [];
  for (const feature of features) {
    if (feature.kind === 'numeric') {
      const column = requireNumericColumn(table, feature.name, true);
      numeric.push({ name: feature.name, ...standardization(column), weight: 0 });
    } else {
      const column = requireCategoricalColumn(table, feature.name);
      const categories = vocabulary(column, feature.maxCategories);
      categorical.push({ name: feature.name, maxCategories: feature.maxCategories, categories, weights: new Array<number>(categories.length + 1).fill(0) });
    }
  }

  const layout = parameterLayout(numeric, categorical);
  const encoded = encodeTable(table, numeric, categorical, layout);
  const params = new Float64Array(layout.size);
  const firstMoment = new Float64Array(layout.size);
  const secondMoment = new Float64Array(layout.size);
  const gradient = new Float64Array(layout.size);
  const { rows } = table;
  const width = numeric.length;
  const depth = categorical.length;
  const { x, categoryIndex } = encoded;
  const biasIndex = layout.bias;

  const random = mulberry32(options.seed);
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const lossHistory: number[] = [];
  let step = 0;

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let start = 0; start < rows; start += options.batchSize) {
      const end = Math.min(rows, start + options.batchSize);
      gradient.fill(0);
      for (let i = start; i < end; i++) {
        const row = order[i]!;
        const xOffset = row * width;
        const cOffset = row * depth;
        const error = sigmoid(logit(params, x, categoryIndex, row, width, depth, biasIndex)) - labels[row]!;
        for (let j = 0; j < width; j++) gradient[j]! += error * x[xOffset + j]!;
        for (let k = 0; k < depth; k++) gradient[categoryIndex[cOffset + k]!]! += error;
        gradient[biasIndex]! += error;
      }
      step++;
      const scale = 1 / (end - start);
      const correction1 = 1 - ADAM_BETA1 ** step;
      const correction2 = 1 - ADAM_BETA2 ** step;
      for (let q = 0; q < layout.size; q++) {
        const weight = params[q]!;
        const g = gradient[q]! * scale + (q === biasIndex ? 0 : options.l2 * weight);
        const m = ADAM_BETA1 * firstMoment[q]! + (1 - ADAM_BETA1) * g;
        const v = ADAM_BETA2 * secondMoment[q]! + (1 - ADAM_BETA2) * g * g;
        firstMoment[q] = m;
        secondMoment[q] = v;
        params[q] = weight - (options.learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + ADAM_EPSILON);
      }
    }
    const loss = meanLogLoss(params, encoded, labels, width, depth, biasIndex);
    lossHistory.push(loss);
    await hooks.onEpoch?.({ epoch, epochs: options.epochs, loss });
    await yieldToEventLoop();
  }

  numeric.forEach((feature, j) => {
    feature.weight = params[j]!;
  });
  categorical.forEach((feature, k) => {
    const offset = layout.categoryOffsets[k]!;
    feature.weights = Array.from(params.subarray(offset, offset + feature.weights.length));
  });
  let positives = 0;
  for (let i = 0; i < rows; i++) positives += labels[i]!;

  return {
    algorithm: 'logistic_regression',
    featureNames: features.map((f) => f.name),
    numeric,
    categorical,
    bias: params[biasIndex]!,
    training: {
      features: features.map((f) => ({ ...f })),
      options: { epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate, l2: options.l2, seed: options.seed },
      rows,
      positiveRate: positives / rows,
      epochs: options.epochs,
      finalLoss: lossHistory[lossHistory.length - 1]!,
      lossHistory,
    },
  };
}

/** P(positive) for every row of `table`, computed in float64 with the model's own preprocessing. */
export function predictLogisticRegression(model: LogisticRegressionModel, table: FeatureTable): Float64Array {
  const layout = parameterLayout(model.numeric, model.categorical);
  const params = new Float64Array(layout.size);
  model.numeric.forEach((feature, j) => {
    params[j] = feature.weight;
  });
  model.categorical.forEach((feature, k) => {
    params.set(feature.weights, layout.categoryOffsets[k]!);
  });
  params[layout.bias] = model.bias;

  const { x, categoryIndex } = encodeTable(table, model.numeric, model.categorical, layout);
  const width = model.numeric.length;
  const depth = model.categorical.length;
  const out = new Float64Array(table.rows);
  for (let row = 0; row < table.rows; row++) {
    out[row] = sigmoid(logit(params, x, categoryIndex, row, width, depth, layout.bias));
  }
  return out;
}

/** Where each weight lives in the flat parameter vector: numeric weights, then each vocabulary (+ other), then the bias. */
interface ParameterLayout {
  categoryOffsets: number[];
  bias: number;
  size: number;
}

function parameterLayout(numeric: readonly NumericFeatureWeight[], categorical: readonly CategoricalFeatureWeights[]): ParameterLayout {
  let offset = numeric.length;
  const categoryOffsets: number[] = [];
  for (const feature of categorical) {
    categoryOffsets.push(offset);
    offset += feature.categories.length + 1;
  }
  return { categoryOffsets, bias: offset, size: offset + 1 };
}

/** Standardized numeric values (row-major, rows × numeric) and, per row and categorical feature, the index of its weight. */
interface EncodedTable {
  x: Float64Array;
  categoryIndex: Uint32Array;
}

function encodeTable(
  table: FeatureTable,
  numeric: readonly NumericFeatureWeight[],
  categorical: readonly CategoricalFeatureWeights[],
  layout: ParameterLayout,
): EncodedTable {
  const { rows } = table;
  const width = numeric.length;
  const depth = categorical.length;
  const x = new Float64Array(rows * width);
  numeric.forEach((feature, j) => {
    const column = requireNumericColumn(table, feature.name, false);
    for (let row = 0; row < rows; row++) {
      const value = column[row]!;
      x[row * width + j] = Number.isNaN(value) ? 0 : (value - feature.mean) / feature.std;
    }
  });
  const categoryIndex = new Uint32Array(rows * depth);
  categorical.forEach((feature, k) => {
    const column = requireCategoricalColumn(table, feature.name);
    const offset = layout.categoryOffsets[k]!;
    const other = offset + feature.categories.length;
    const index = new Map(feature.categories.map((value, i) => [value, offset + i]));
    for (let row = 0; row < rows; row++) {
      const value = column[row];
      categoryIndex[row * depth + k] = value == null ? other : (index.get(value) ?? other);
    }
  });
  return { x, categoryIndex };
}

function logit(params: Float64Array, x: Float64Array, categoryIndex: Uint32Array, row: number, width: number, depth: number, bias: number): number {
  let z = params[bias]!;
  const xOffset = row * width;
  const cOffset = row * depth;
  for (let j = 0; j < width; j++) z += params[j]! * x[xOffset + j]!;
  for (let k = 0; k < depth; k++) z += params[categoryIndex[cOffset + k]!]!;
  return z;
}

function meanLogLoss(params: Float64Array, encoded: EncodedTable, labels: Uint8Array, width: number, depth: number, bias: number): number {
  let total = 0;
  for (let row = 0; row < labels.length; row++) {
    const z = logit(params, encoded.x, encoded.categoryIndex, row, width, depth, bias);
    // -log σ(z) for y = 1 and -log(1 - σ(z)) for y = 0, written to stay finite for large |z|.
    total += Math.max(z, 0) - z * labels[row]! + Math.log1p(Math.exp(-Math.abs(z)));
  }
  return total / labels.length;
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Mean and population standard deviation of the non-missing values; std 0 (or no values) becomes 1. */
function standardization(column: Float64Array): { mean: number; std: number } {
  let count = 0;
  let sum = 0;
  for (const value of column) {
    if (Number.isNaN(value)) continue;
    count++;
    sum += value;
  }
  if (count === 0) return { mean: 0, std: 1 };
  const mean = sum / count;
  let squares = 0;
  for (const value of column) {
    if (!Number.isNaN(value)) squares += (value - mean) ** 2;
  }
  const std = Math.sqrt(squares / count);
  return { mean, std: std > 0 ? std : 1 };
}

/**
 * The `maxCategories` most frequent values, most frequent first; ties are broken by value
 * (code-unit order) so the vocabulary does not depend on row order. null and "" count as missing.
 */
function vocabulary(column: ReadonlyArray<string | null>, maxCategories: number): string[] {
  const counts = new Map<string, number>();
  for (const value of column) {
    if (value == null || value === '') continue;
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxCategories)
    .map(([value]) => value);
}

function requireLabels(table: FeatureTable): Uint8Array {
  if (table.rows < 1) throw new Error('cannot train on an empty feature table');
  const { label } = table;
  if (!label) throw new Error('cannot train: the feature table has no label column');
  if (label.length !== table.rows) throw new Error(`label column has ${label.length} values, the table has ${table.rows} rows`);
  for (let i = 0; i < label.length; i++) {
    if (label[i]! > 1) throw new Error(`labels must be 0 or 1; row ${i} has ${label[i]}`);
  }
  return label;
}

function requireUniqueNames(features: readonly FeatureSpec[]): void {
  const seen = new Set<string>();
  for (const { name } of features) {
    if (seen.has(name)) throw new Error(`duplicate feature '${name}'`);
    seen.add(name);
  }
}

function requireNumericColumn(table: FeatureTable, name: string, training: boolean): Float64Array {
  const column = table.numeric[name];
  if (!column) throw new Error(`numeric feature '${name}' is not in the feature table (numeric columns: ${Object.keys(table.numeric).join(', ') || 'none'})`);
  if (column.length !== table.rows) throw new Error(`numeric feature '${name}' has ${column.length} values, the table has ${table.rows} rows`);
  if (training) {
    // ±Infinity would poison mean, std and every gradient; NaN is the only missing-value marker.
    const bad = column.findIndex((v) => v === Infinity || v === -Infinity);
    if (bad >= 0) throw new Error(`numeric feature '${name}' has a non-finite value (${column[bad]}) at row ${bad}`);
  }
  return column;
}

function requireCategoricalColumn(table: FeatureTable, name: string): ReadonlyArray<string | null> {
  const column = table.categorical[name];
  if (!column) {
    throw new Error(`categorical feature '${name}' is not in the feature table (categorical columns: ${Object.keys(table.categorical).join(', ') || 'none'})`);
  }
  if (column.length !== table.rows) throw new Error(`categorical feature '${name}' has ${column.length} values, the table has ${table.rows} rows`);
  return column;
}
