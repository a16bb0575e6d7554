import { describe, it, expect, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { FeatureTable } from '../../lib/data/feature-table';
import type { LogisticRegressionModel } from '../../lib/training/trainers/builtin-model';
import { exportBuiltinModelToOnnx } from '../../lib/training/trainers/builtin-onnx-export';
import { RETRAIN_METADATA_KEY, type RetrainOnnxMetadata } from '../../lib/training/trainers/onnx-metadata';
import { trainBinaryLogisticRegression } from '../fixtures/binary-logistic-regression';
import { loadOnnxScorer } from '../../lib/scoring/onnx-scorer';
import { syntheticFeatureTable } from '../../lib/data/synthetic-feature-table';
import { predictBuiltinModel } from '../../lib/training/trainers';
import { DataType, onnxSignature, STANDARD_OPSETS } from '../fixtures/onnx-graph';

const options = { epochs: 3, batchSize: 256, learningRate: 0.05, l2: 1e-5, seed: 42 };

/** Held-out rows plus values the model never saw: unknown carriers and origins, "" and null, NaN distances. */
function scoringTable(): FeatureTable {
  const { table } = syntheticFeatureTable({ rows: 3_000, seed: 11, missingRate: 0.1, carriers: 20 });
  const origin = table.categorical.origin!.map((v, i) => (i % 17 === 0 ? 'XYZ' : i % 19 === 0 ? '' : i % 23 === 0 ? null : v));
  return { ...table, categorical: { ...table.categorical, origin } };
}

/** P(class 1) of every row, as scorePositive reports it. */
function predictPositive(model: LogisticRegressionModel, table: FeatureTable): Float64Array {
  return predictBuiltinModel(model, table).filter((_, i) => i % 2 === 1);
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

// The binary entry point and the contract's binary shape; ml-trainer-onnx-export covers K classes and the MLP.
describe('exportBuiltinModelToOnnx of a logistic regression', () => {
  let model: LogisticRegressionModel;
  let bytes: Uint8Array;

  beforeAll(async () => {
    const { table, features } = syntheticFeatureTable({ rows: 10_000, seed: 10 });
    model = await trainBinaryLogisticRegression(table, features, options);
    bytes = exportBuiltinModelToOnnx(model);
  });

  it('scores like predictBuiltinModel under onnxruntime, unseen and missing values included', async () => {
    const table = scoringTable();
    const scorer = await loadOnnxScorer(bytes);
    try {
      const onnxScores = await scorer.scorePositive(table);
      const expected = predictPositive(model, table);
      expect(maxAbsDifference(onnxScores, expected)).toBeLessThan(1e-5);
      // Batching must not change anything, including a short last batch.
      expect(await scorer.scorePositive(table, 7)).toEqual(onnxScores);
    } finally {
      await scorer.release();
    }
  });

  it('declares one raw input per feature and the probabilities and label outputs', () => {
    const signature = onnxSignature(bytes);
    expect(signature).toMatchObject({ irVersion: 8, opsets: STANDARD_OPSETS });
    expect(signature.inputs).toEqual([
      ['distance', DataType.FLOAT, ['N', 1]],
      ['carrier', DataType.STRING, ['N', 1]],
      ['hour', DataType.FLOAT, ['N', 1]],
      ['origin', DataType.STRING, ['N', 1]],
      ['constant', DataType.FLOAT, ['N', 1]],
    ]);
    expect(signature.outputs).toEqual([
      ['probabilities', DataType.FLOAT, ['N', 2]],
      ['label', DataType.INT64, ['N']],
    ]);
  });

  it('stores feature specs and vocabulary sizes as JSON under metadata key "retrain"', () => {
    const metadata = JSON.parse(onnxSignature(bytes).metadata[RETRAIN_METADATA_KEY]!) as RetrainOnnxMetadata;
    expect(metadata.algorithm).toBe('logistic_regression');
    expect(metadata).toMatchObject({ classes: 2, features: model.features });
    expect(metadata.vocabularySizes).toEqual({ carrier: 8, origin: 5 });
    expect(metadata.training).toMatchObject({ mode: 'from_scratch', rows: 10_000, epochs: 3, options: { batchSize: 256, learningRate: 0.05, l2: 1e-5, seed: 42 } });
    expect(metadata.training).not.toHaveProperty('lossHistory');
  });

  it('outputs probabilities that sum to 1 and a label that is their argmax', async () => {
    const table = scoringTable();
    const rows = 50;
    const session = await ort.InferenceSession.create(bytes);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of ['distance', 'hour', 'constant']) feeds[name] = new ort.Tensor('float32', Float32Array.from(table.numeric[name]!.subarray(0, rows)), [rows, 1]);
      for (const name of ['carrier', 'origin']) feeds[name] = new ort.Tensor('string', table.categorical[name]!.slice(0, rows).map((v) => v ?? ''), [rows, 1]);
      const out = await session.run(feeds);
      expect(out.probabilities!.dims).toEqual([rows, 2]);
      expect(out.label!.dims).toEqual([rows]);
      const p = out.probabilities!.data as Float32Array;
      const label = out.label!.data as BigInt64Array;
      for (let i = 0; i < rows; i++) {
        expect(p[2 * i]! + p[2 * i + 1]!).toBeCloseTo(1, 6);
        expect(label[i]).toBe(p[2 * i + 1]! > p[2 * i]! ? 1n : 0n);
      }
    } finally {
      await session.release();
    }
  });

  it('exports a categorical feature whose vocabulary is empty and a model without numeric features', async () => {
    const table: FeatureTable = {
      rows: 6,
      numeric: {},
      categorical: { seen: ['a', 'b', 'a', 'b', 'a', 'b'], never: [null, null, '', null, '', null] },
      label: Uint8Array.from([1, 0, 1, 0, 1, 1]),
    };
    const categoricalOnly = await trainBinaryLogisticRegression(
      table,
      [
        { name: 'seen', kind: 'categorical', maxCategories: 10 },
        { name: 'never', kind: 'categorical', maxCategories: 10 },
      ],
      options,
    );
    expect(categoricalOnly.preprocessing.categorical[1]!.categories).toEqual([]);
    const probe: FeatureTable = { rows: 3, numeric: {}, categorical: { seen: ['a', 'b', 'zz'], never: ['x', null, ''] } };
    const scorer = await loadOnnxScorer(exportBuiltinModelToOnnx(categoricalOnly));
    try {
      expect(maxAbsDifference(await scorer.scorePositive(probe), predictPositive(categoricalOnly, probe))).toBeLessThan(1e-6);
    } finally {
      await scorer.release();
    }
  });

  it('refuses a feature named like a model output', () => {
    const renamed: LogisticRegressionModel = {
      ...model,
      features: model.features.map((f) => (f.name === 'hour' ? { ...f, name: 'label' } : f)),
      preprocessing: { ...model.preprocessing, numeric: model.preprocessing.numeric.map((f) => (f.name === 'hour' ? { ...f, name: 'label' } : f)) },
    };
    expect(() => exportBuiltinModelToOnnx(renamed)).toThrow(/feature 'label' cannot be exported/);
  });
});
