import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { quotedString } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalTrainerSpec, parseModelSpec, type ModelSpec } from '../../lib/spec/model-spec';
import { withDuckDB } from '../../lib/data/duckdb';
import { writeFeatureParquet } from '../../lib/data/feature-parquet-writer';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { runExternalTrainer } from '../../lib/training/external-trainer';
import { readFeatureSample, validateTrainerOutput } from '../../lib/training/external-trainer-output';
import { loadOnnxScorer } from '../../lib/scoring/onnx-scorer';
import { AttributeType, DataType, encodeOnnxModel, floatScalar, node, tensorType, zipMap, type OnnxNode } from '../fixtures/onnx-graph';


interface TinyInput {
  name: string;
  type: 'float' | 'double' | 'int64' | 'string';
}

/**
 * A hand-built classifier in the shape skl2onnx produces: P(positive) = sigmoid(sum of the
 * numeric inputs (NaN as 0 unless `impute` is false) + 1 for each string input equal to "a"),
 * as a [N, 2] float tensor named `output` (or wrapped in a ZipMap, as skl2onnx does unless told not to).
 */
function tinyClassifier(inputs: TinyInput[], options: { output?: string; zipmap?: boolean; impute?: boolean } = {}): Uint8Array {
  const output = options.output ?? 'probabilities';
  const elemTypes = { float: DataType.FLOAT, double: DataType.DOUBLE, int64: DataType.INT64, string: DataType.STRING };
  const nodes: OnnxNode[] = [];
  const terms = inputs.map((input) => {
    const term = `${input.name}_term`;
    if (input.type === 'string') {
      nodes.push(
        node({
          opType: 'LabelEncoder',
          domain: 'ai.onnx.ml',
          input: [input.name],
          output: [term],
          attribute: [
            { name: 'keys_strings', type: AttributeType.STRINGS, strings: [new TextEncoder().encode('a')] },
            { name: 'values_floats', type: AttributeType.FLOATS, floats: [1] },
            { name: 'default_float', type: AttributeType.FLOAT, f: 0 },
          ],
        }),
      );
    } else {
      const cast = `${input.name}_float`;
      nodes.push(node({ opType: 'Cast', input: [input.name], output: [cast], attribute: [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }] }));
      if (options.impute === false) return cast;
      nodes.push(node({ opType: 'IsNaN', input: [cast], output: [`${input.name}_missing`] }), node({ opType: 'Where', input: [`${input.name}_missing`, 'zero', cast], output: [term] }));
    }
    return term;
  });
  const probabilities = options.zipmap ? 'probability_tensor' : output;
  nodes.push(
    node({ opType: 'Sum', input: terms, output: ['logit'] }),
    node({ opType: 'Sigmoid', input: ['logit'], output: ['p1'] }),
    node({ opType: 'Sub', input: ['one', 'p1'], output: ['p0'] }),
    node({ opType: 'Concat', input: ['p0', 'p1'], output: [probabilities], attribute: [{ name: 'axis', type: AttributeType.INT, i: 1 }] }),
  );
  let outputType = tensorType(DataType.FLOAT, ['N', 2]);
  if (options.zipmap) {
    const wrapped = zipMap(probabilities, output, { ints: [0, 1] });
    nodes.push(wrapped.node);
    outputType = wrapped.type;
  }
  return encodeOnnxModel({
    name: 'tiny',
    nodes,
    initializers: [floatScalar('one', 1), floatScalar('zero', 0)],
    inputs: inputs.map((i) => ({ name: i.name, type: tensorType(elemTypes[i.type], ['N', 1]) })),
    outputs: [{ name: output, type: outputType }],
  });
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('loadOnnxScorer with models from other converters', () => {
  const table = { rows: 3, numeric: { x: Float64Array.from([0, 1, -2]), n: Float64Array.from([1, 2, 3]) }, categorical: { c: ['a', null, 'b'] } };

  it('reads skl2onnx output_probability when it is a plain [N, 2] tensor (ZipMap disabled)', async () => {
    const scorer = await loadOnnxScorer(tinyClassifier([{ name: 'x', type: 'float' }], { output: 'output_probability' }));
    expect(scorer.probabilitiesOutput).toBe('output_probability');
    const scores = await scorer.scorePositive(table);
    expect(Array.from(scores)).toEqual([0, 1, -2].map((z) => expect.closeTo(sigmoid(z), 6)));
    await scorer.release();
  });

  it('reads a ZipMap output_probability (a sequence of maps) through the ZipMap input, unwrapped at load', async () => {
    const scorer = await loadOnnxScorer(tinyClassifier([{ name: 'x', type: 'float' }], { output: 'output_probability', zipmap: true }));
    expect(scorer.contract).toMatchObject({ probabilitiesOutput: 'output_probability', classes: 2, unwrappedZipMap: true });
    const plain = await loadOnnxScorer(tinyClassifier([{ name: 'x', type: 'float' }], { output: 'output_probability' }));
    expect(plain.contract.unwrappedZipMap).toBe(false);
    expect(await scorer.scorePositive(table)).toEqual(await plain.scorePositive(table));
    await Promise.all([scorer.release(), plain.release()]);
  });

  it('feeds numeric features to double and int64 inputs, and categorical ones to string inputs', async () => {
    const scorer = await loadOnnxScorer(
      tinyClassifier([
        { name: 'x', type: 'double' },
        { name: 'n', type: 'int64' },
        { name: 'c', type: 'string' },
      ]),
    );
    expect(scorer.inputs).toEqual([
      { name: 'x', type: 'float64', rank: 2 },
      { name: 'n', type: 'int64', rank: 2 },
      { name: 'c', type: 'string', rank: 2 },
    ]);
    const scores = await scorer.scorePositive(table);
    expect(Array.from(scores)).toEqual([0 + 1 + 1, 1 + 2, -2 + 3].map((z) => expect.closeTo(sigmoid(z), 6)));
    await scorer.release();
  });

  it('does not round a fractional or missing value into an int64 input', async () => {
    const scorer = await loadOnnxScorer(tinyClassifier([{ name: 'n', type: 'int64' }]));
    await expect(scorer.scorePositive({ ...table, numeric: { n: Float64Array.from([1, 2.5, 3]) } })).rejects.toThrow(
      /feature 'n' row 1 is 2.5; the ONNX model's int64 input takes whole numbers only/,
    );
    await expect(scorer.scorePositive({ ...table, numeric: { n: Float64Array.from([1, Number.NaN, 3]) } })).rejects.toThrow(/row 1 is NaN/);
    await scorer.release();
  });
});

describe('external trainer output', () => {
  let dir: string;
  let spec: ModelSpec;
  let trainingData: string;
  let snapshot: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-trainer-output-'));
    snapshot = path.join(dir, 'snapshot.parquet');
    // 200 rows; c is missing in every third row and x in every seventh; y is null in every eleventh (those rows are not training rows).
    await withDuckDB(async (connection) => {
      await connection.run(
        `COPY (SELECT TIMESTAMP '2001-01-01' + to_minutes(i) AS ts,
                      CASE WHEN i % 7 = 3 THEN NULL ELSE (i % 13) * 0.5 END AS x,
                      CASE i % 3 WHEN 0 THEN 'a' WHEN 1 THEN 'b' ELSE NULL END AS c,
                      CASE WHEN i % 11 = 5 THEN NULL ELSE i % 2 = 0 END AS y
               FROM range(200) t(i)) TO ${quotedString(snapshot)} (FORMAT parquet)`,
      );
    });
    spec = parseModelSpec({
      name: 'tiny',
      source: { kind: 'local', path: dir },
      partition: { column: 'ts' },
      schema: {
        columns: [
          { name: 'ts', type: 'timestamp' },
          { name: 'x', type: 'double', nullable: true },
          { name: 'c', type: 'string', nullable: true },
          { name: 'y', type: 'boolean', nullable: true },
        ],
      },
      features: [
        { name: 'x', kind: 'numeric' },
        { name: 'x_squared', kind: 'numeric', sql: 'x * x' },
        { name: 'c', kind: 'categorical' },
      ],
      label: { name: 'label', sql: 'y' },
      training: {},
      promotion: { strategy: 'direct' },
    });
    trainingData = path.join(dir, 'training.parquet');
    await writeFeatureParquet([snapshot], spec, trainingData);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the training Parquet holds the feature table loadFeatureTable computes, row for row, with the label as 0/1', async () => {
    const table = await loadFeatureTable([snapshot], spec);
    expect(table.rows).toBe(200 - 18);
    const sample = await readFeatureSample(trainingData, spec.features, 1000);
    expect(sample.rows).toBe(table.rows);
    expect(Array.from(sample.numeric.x!)).toEqual(Array.from(table.numeric.x!));
    expect(Array.from(sample.numeric.x_squared!)).toEqual(Array.from(table.numeric.x_squared!));
    expect(sample.categorical.c).toEqual(table.categorical.c);
    const labels = await withDuckDB(async (connection) => {
      const reader = await connection.runAndReadAll(`SELECT label, typeof(label) AS type FROM read_parquet(${quotedString(trainingData)})`);
      return reader.getRowObjectsJS();
    });
    expect(labels.map((r) => r.label)).toEqual(Array.from(table.label!));
    expect(new Set(labels.map((r) => r.type))).toEqual(new Set(['INTEGER']));
  });

  async function check(model: Uint8Array | null, metrics: string | null = '{"trainingRows": 182}') {
    const out = await mkdtemp(path.join(dir, 'out-'));
    const files = { model: path.join(out, 'model.onnx'), metrics: path.join(out, 'metrics.json'), trainingData, features: spec.features };
    if (model) await writeFile(files.model, model);
    if (metrics !== null) await writeFile(files.metrics, metrics);
    return validateTrainerOutput(files);
  }

  const valid: TinyInput[] = [
    { name: 'x', type: 'float' },
    { name: 'x_squared', type: 'double' },
    { name: 'c', type: 'string' },
  ];

  it('accepts a model with one input of a fitting type per feature and returns the metrics', async () => {
    await expect(check(tinyClassifier(valid))).resolves.toEqual({ metrics: { trainingRows: 182 } });
  });

  it('accepts a model whose probabilities are a ZipMap (skl2onnx with ZipMap on)', async () => {
    await expect(check(tinyClassifier(valid, { output: 'output_probability', zipmap: true }))).resolves.toEqual({ metrics: { trainingRows: 182 } });
  });

  it.each([
    ['no input for a feature', [valid[0]!, valid[2]!], {}, /has no input for numeric feature 'x_squared' \(model inputs: x, c\)/],
    ['a categorical feature fed as a number', [valid[0]!, valid[1]!, { name: 'c', type: 'float' }], {}, /input 'c' has type float32; categorical feature 'c' needs string/],
    ['a numeric feature fed as a string', [{ name: 'x', type: 'string' }, valid[1]!, valid[2]!], {}, /input 'x' has type string; numeric feature 'x' needs float32 or float64 or int64/],
    ['an input that is not a feature', [...valid, { name: 'carrier', type: 'string' }], {}, /inputs that are not features: carrier/],
    ['no probabilities output', valid, { output: 'scores' }, /cannot be used by onnxruntime: ONNX model has no 'probabilities' output \(outputs: scores\)/],
    ['NaN probabilities for rows with a missing value', valid, { impute: false }, /gives probability NaN for training row 3; 'probabilities' must hold probabilities in \[0, 1\]/],
    ['an int64 input for a fractional feature', [valid[0]!, { name: 'x_squared', type: 'int64' }, valid[2]!], {}, /fails to score 64 training rows: feature 'x_squared' row \d+ is \d+\.\d+/],
  ] as const)('rejects a model with %s as InvalidTrainerOutput', async (_what, inputs, options, message) => {
    await expect(check(tinyClassifier([...inputs], options))).rejects.toMatchObject({ type: 'InvalidTrainerOutput', message: expect.stringMatching(message) });
  });

  it.each([
    ['missing', null, /wrote no metrics file at .*metrics\.json/],
    ['not JSON', '{"auc": 0.7', /are not valid JSON/],
    ['an array', '[0.7]', /must hold a JSON object, not an array/],
    ['null', 'null', /must hold a JSON object, not null/],
  ] as const)('rejects metrics that are %s as InvalidTrainerOutput', async (_what, metrics, message) => {
    await expect(check(tinyClassifier(valid), metrics)).rejects.toMatchObject({ type: 'InvalidTrainerOutput', message: expect.stringMatching(message) });
  });

  it('runExternalTrainer returns the paths, metrics and exit code of a trainer that follows the contract', async () => {
    const model = path.join(dir, 'valid.onnx');
    await writeFile(model, tinyClassifier(valid));
    // A trainer that checks the contract it was given, then "trains" by copying a model.
    const script = `
      const fs = require('fs');
      const contract = JSON.parse(fs.readFileSync(process.env.RETRAIN_CONTRACT, 'utf8'));
      if (contract.trainingData !== ${JSON.stringify(trainingData)} || contract.label !== 'label') process.exit(5);
      console.error('copying model');
      fs.copyFileSync(${JSON.stringify(model)}, contract.output.model);
      fs.writeFileSync(contract.output.metrics, JSON.stringify({ trainingRows: 182, auc: 0.5 }));`;
    const workDir = path.join(dir, 'run');
    const result = await runExternalTrainer({
      trainer: ExternalTrainerSpec.parse({ kind: 'external', command: [process.execPath, '-e', script] }),
      workDir,
      contract: { model: spec.name, mode: 'from_scratch', trainingData, features: spec.features, label: spec.label.name, warmStartModel: null, seed: 1 },
      heartbeat: () => {},
    });
    expect(result).toMatchObject({
      onnxPath: path.join(workDir, 'output', 'model.onnx'),
      metricsPath: path.join(workDir, 'output', 'metrics.json'),
      metrics: { trainingRows: 182, auc: 0.5 },
      stdoutPath: path.join(workDir, 'logs', 'stdout.log'),
      stderrPath: path.join(workDir, 'logs', 'stderr.log'),
      exitCode: 0,
    });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(await readFile(result.stderrPath, 'utf8')).toBe('copying model\n');
  });
});
