import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { FeatureTable } from '../../lib/data/feature-table';
import { exportBuiltinModelToOnnx } from '../../lib/training/trainers/builtin-onnx-export';
import { trainBinaryLogisticRegression } from '../fixtures/binary-logistic-regression';
import { loadOnnxScorer, type OnnxScorer } from '../../lib/scoring/onnx-scorer';
import { syntheticFeatureTable } from '../../lib/data/synthetic-feature-table';

describe('loadOnnxScorer', () => {
  let scorer: OnnxScorer;
  let table: FeatureTable;

  beforeAll(async () => {
    const synthetic = syntheticFeatureTable({ rows: 500, seed: 21 });
    table = synthetic.table;
    const model = await trainBinaryLogisticRegression(table, synthetic.features, { epochs: 1, batchSize: 64, learningRate: 0.05, l2: 0, seed: 1 });
    scorer = await loadOnnxScorer(exportBuiltinModelToOnnx(model));
  });

  afterAll(async () => {
    await scorer.release();
  });

  it('lists the features the model needs in input order', () => {
    expect(scorer.inputNames).toEqual(['distance', 'carrier', 'hour', 'origin', 'constant']);
  });

  it('returns one probability per row, unlabelled tables included', async () => {
    const scores = await scorer.scorePositive({ ...table, label: undefined });
    expect(scores).toHaveLength(500);
    expect(scores.every((p) => p > 0 && p < 1)).toBe(true);
    expect(await scorer.scorePositive({ ...table, rows: 0, numeric: emptyNumeric(table), categorical: emptyCategorical(table) })).toHaveLength(0);
  });

  it('names the feature the table lacks', async () => {
    const { hour: _hour, ...numeric } = table.numeric;
    await expect(scorer.scorePositive({ ...table, numeric })).rejects.toThrow("feature table lacks numeric feature 'hour' required by the ONNX model");
  });

  it('says when a feature is present with the other kind', async () => {
    const { carrier, ...categorical } = table.categorical;
    const numeric = { ...table.numeric, carrier: new Float64Array(carrier!.length) };
    await expect(scorer.scorePositive({ ...table, numeric, categorical })).rejects.toThrow(/lacks categorical feature 'carrier' .*\(the table has it as numeric\)/);
  });

  it('rejects a batch size that is not a positive integer', async () => {
    await expect(scorer.scorePositive(table, 0)).rejects.toThrow(/batchSize must be a positive integer/);
  });

  it('rejects bytes that are not an ONNX model', async () => {
    await expect(loadOnnxScorer(new TextEncoder().encode('not a model'))).rejects.toThrow();
  });
});

function emptyNumeric(table: FeatureTable): Record<string, Float64Array> {
  return Object.fromEntries(Object.keys(table.numeric).map((name) => [name, new Float64Array(0)]));
}

function emptyCategorical(table: FeatureTable): Record<string, (string | null)[]> {
  return Object.fromEntries(Object.keys(table.categorical).map((name) => [name, []]));
}
