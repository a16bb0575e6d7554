import { describe, it, expect, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import { BuiltinTrainerSpec, type FeatureSpec } from '../../lib/spec/model-spec';
import type { FeatureTable } from '../../lib/data/feature-table';
import { syntheticMulticlassFeatureTable } from '../../lib/data/synthetic-feature-table';
import {
  exportBuiltinModelToOnnx,
  predictBuiltinModel,
  RETRAIN_METADATA_KEY,
  trainBuiltinModel,
  type BuiltinAlgorithm,
  type BuiltinModel,
  type RetrainOnnxMetadata,
} from '../../lib/training/trainers';
import { onnxSignature, STANDARD_OPSETS } from '../fixtures/onnx-graph';


/** Held-out rows plus what the model never saw: unknown carriers and origins, "" and null, NaN distances. */
function scoringTable(classes: number): FeatureTable {
  const { table } = syntheticMulticlassFeatureTable({ rows: 3_000, seed: 41, classes, missingRate: 0.1 });
  const origin = table.categorical.origin!.map((v, i) => (i % 17 === 0 ? 'XYZ' : i % 19 === 0 ? '' : i % 23 === 0 ? null : v));
  const carrier = table.categorical.carrier!.map((v, i) => (i % 29 === 0 ? 'c99' : v));
  return { ...table, categorical: { carrier, origin } };
}

/** Runs the exported model on every row of `table` the way a scorer feeds it: float32 numbers, null as "". */
async function runOnnx(bytes: Uint8Array, table: FeatureTable, features: readonly FeatureSpec[]): Promise<{ probabilities: ort.Tensor; label: ort.Tensor }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of features) {
      feeds[f.name] =
        f.kind === 'numeric'
          ? new ort.Tensor('float32', Float32Array.from(table.numeric[f.name]!), [table.rows, 1])
          : new ort.Tensor('string', table.categorical[f.name]!.map((v) => v ?? ''), [table.rows, 1]);
    }
    const out = await session.run(feeds);
    return { probabilities: out.probabilities!, label: out.label! };
  } finally {
    await session.release();
  }
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const cases = [
  ['logistic_regression', 2],
  ['logistic_regression', 3],
  ['mlp', 2],
  ['mlp', 3],
] as const satisfies ReadonlyArray<readonly [BuiltinAlgorithm, number]>;

describe.each(cases)('exportBuiltinModelToOnnx for %s with %i classes', (algorithm, classes) => {
  let model: BuiltinModel;
  let bytes: Uint8Array;
  let features: FeatureSpec[];

  beforeAll(async () => {
    const train = syntheticMulticlassFeatureTable({ rows: 6_000, seed: 40, classes });
    features = train.features;
    const options = BuiltinTrainerSpec.parse({ kind: 'builtin', algorithm, epochs: 2, learningRate: 0.02, hiddenUnits: 12, seed: 3 });
    model = await trainBuiltinModel({ table: train.table, features, classes, options, epochs: 2 });
    bytes = exportBuiltinModelToOnnx(model);
  });

  it('gives the probabilities of predictBuiltinModel under onnxruntime to 1e-5, unseen and missing values included', async () => {
    const table = scoringTable(classes);
    const { probabilities } = await runOnnx(bytes, table, features);
    expect(probabilities.dims).toEqual([table.rows, classes]);
    expect(maxAbsDifference(probabilities.data as Float32Array, predictBuiltinModel(model, table))).toBeLessThan(1e-5);
  });

  it('outputs a label that is the argmax of the probabilities', async () => {
    const table = scoringTable(classes);
    const { probabilities, label } = await runOnnx(bytes, table, features);
    expect(label.dims).toEqual([table.rows]);
    const p = probabilities.data as Float32Array;
    const labels = label.data as BigInt64Array;
    for (let row = 0; row < table.rows; row++) {
      const scores = Array.from(p.subarray(row * classes, (row + 1) * classes));
      expect(Number(labels[row])).toBe(scores.indexOf(Math.max(...scores)));
    }
  });

  it('declares raw [N, 1] inputs, [N, K] probabilities and the algorithm and classes in its metadata', () => {
    const signature = onnxSignature(bytes);
    expect(signature).toMatchObject({ irVersion: 8, opsets: STANDARD_OPSETS });
    expect(signature.inputs.map(([name]) => name)).toEqual(features.map((f) => f.name));
    expect(signature.outputs.find(([name]) => name === 'probabilities')![2]).toEqual(['N', classes]);
    const metadata = JSON.parse(signature.metadata[RETRAIN_METADATA_KEY]!) as RetrainOnnxMetadata;
    expect(metadata).toMatchObject({ algorithm, classes, features, vocabularySizes: { carrier: 8, origin: 5 } });
    expect(metadata.hiddenUnits).toBe(algorithm === 'mlp' ? 12 : undefined);
  });
});

describe('exportBuiltinModelToOnnx', () => {
  it('exports an MLP without numeric features and with an empty vocabulary', async () => {
    const table: FeatureTable = {
      rows: 6,
      numeric: {},
      categorical: { seen: ['a', 'b', 'c', 'a', 'b', 'c'], never: [null, null, '', null, '', null] },
      label: Uint8Array.from([0, 1, 2, 0, 1, 2]),
    };
    const features: FeatureSpec[] = [
      { name: 'seen', kind: 'categorical', maxCategories: 10 },
      { name: 'never', kind: 'categorical', maxCategories: 10 },
    ];
    const options = BuiltinTrainerSpec.parse({ kind: 'builtin', algorithm: 'mlp', epochs: 3, batchSize: 2, hiddenUnits: 4 });
    const model = await trainBuiltinModel({ table, features, classes: 3, options, epochs: 3 });
    expect(model.preprocessing.categorical[1]!.categories).toEqual([]);
    const probe: FeatureTable = { rows: 3, numeric: {}, categorical: { seen: ['a', 'b', 'zz'], never: ['x', null, ''] } };
    const { probabilities } = await runOnnx(exportBuiltinModelToOnnx(model), probe, features);
    expect(maxAbsDifference(probabilities.data as Float32Array, predictBuiltinModel(model, probe))).toBeLessThan(1e-6);
  });
});
