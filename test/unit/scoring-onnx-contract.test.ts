import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { FeatureTable } from '../../lib/data/feature-table';
import {
  openOnnxModel,
  positiveProbabilities,
  readProbabilities,
  requireBinary,
  rowFeeds,
  tableFeeds,
  unwrapZipMap,
  type FeatureRow,
  type OnnxContract,
} from '../../lib/scoring/onnx-contract';
import { mulberry32 } from '../../lib/stats/seeded-random';
import { AttributeType, DataType, encodeOnnxModel, floatScalar, node, tensorType, zipMap } from '../fixtures/onnx-graph';


interface SigmoidOptions {
  /** Columns: 2 gives [1 − σ(x), σ(x)], 3 appends σ(x) again. */
  classes?: 2 | 3;
  /** Wrap the probabilities in a ZipMap with these class labels. */
  zipMap?: { ints?: number[]; strings?: string[] };
  /** The ZipMap (or plain) output's name. */
  output?: string;
}

/** P(class 1) = σ(x) from one float input x [N, 1], in the shapes skl2onnx produces. */
function sigmoidClassifier(options: SigmoidOptions = {}): Uint8Array {
  const output = options.output ?? (options.zipMap ? 'output_probability' : 'probabilities');
  const tensor = options.zipMap ? 'probability_tensor' : output;
  const columns = options.classes === 3 ? ['p0', 'p1', 'p1'] : ['p0', 'p1'];
  const nodes = [
    node({ opType: 'Sigmoid', input: ['x'], output: ['p1'] }),
    node({ opType: 'Sub', input: ['one', 'p1'], output: ['p0'] }),
    node({ opType: 'Concat', input: columns, output: [tensor], attribute: [{ name: 'axis', type: AttributeType.INT, i: 1 }] }),
  ];
  let type = tensorType(DataType.FLOAT, ['N', columns.length]);
  if (options.zipMap) {
    const wrapped = zipMap(tensor, output, options.zipMap);
    nodes.push(wrapped.node);
    type = wrapped.type;
  }
  return encodeOnnxModel({
    name: 'sigmoid',
    nodes,
    initializers: [floatScalar('one', 1)],
    inputs: [{ name: 'x', type: tensorType(DataType.FLOAT, ['N', 1]) }],
    outputs: [{ name: output, type }],
  });
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

async function positive(bytes: Uint8Array, xs: number[]): Promise<{ contract: OnnxContract; p: Float64Array }> {
  const { session, contract } = await openOnnxModel(bytes);
  try {
    const results = await session.run({ x: new ort.Tensor('float32', Float32Array.from(xs), [xs.length, 1]) }, [contract.probabilitiesOutput]);
    return { contract, p: positiveProbabilities(readProbabilities(contract, results, xs.length), xs.length) };
  } finally {
    await session.release();
  }
}

describe('openOnnxModel', () => {
  const xs = [-2, 0, 1.5];

  it('reads the inputs, the probabilities output and K from a plain model', async () => {
    const { contract, p } = await positive(sigmoidClassifier(), xs);
    expect(contract).toEqual({ inputs: [{ name: 'x', type: 'float32', rank: 2 }], probabilitiesOutput: 'probabilities', classes: 2, unwrappedZipMap: false });
    expect(Array.from(p)).toEqual(xs.map((x) => expect.closeTo(sigmoid(x), 6)));
    expect(p[1]).toBe(0.5);
  });

  it('unwraps a ZipMap in class order: the same probabilities, bit for bit, as with ZipMap off', async () => {
    const plain = await positive(sigmoidClassifier({ output: 'output_probability' }), xs);
    const zipped = await positive(sigmoidClassifier({ zipMap: { ints: [0, 1] } }), xs);
    expect(zipped.contract).toMatchObject({ probabilitiesOutput: 'output_probability', classes: 2, unwrappedZipMap: true });
    expect(zipped.p).toEqual(plain.p);
  });

  it('accepts class labels "0" and "1" given as strings', async () => {
    const plain = await positive(sigmoidClassifier(), xs);
    const zipped = await positive(sigmoidClassifier({ zipMap: { strings: ['0', '1'] } }), xs);
    expect(zipped.p).toEqual(plain.p);
  });

  it('puts the columns in class order when the ZipMap lists the classes permuted', async () => {
    // Labels [1, 0]: column 0 holds P(class 1) = 1 − σ(x).
    const zipped = await positive(sigmoidClassifier({ zipMap: { ints: [1, 0] } }), xs);
    expect(Array.from(zipped.p)).toEqual(xs.map((x) => expect.closeTo(1 - sigmoid(x), 6)));
  });

  it('refuses class labels that are not the class indices 0..K-1', async () => {
    await expect(openOnnxModel(sigmoidClassifier({ zipMap: { strings: ['no', 'yes'] } }))).rejects.toThrow(
      `the ZipMap producing 'output_probability' has class labels ["no", "yes"]; Retrain's labels are the class indices 0..K-1`,
    );
    await expect(openOnnxModel(sigmoidClassifier({ zipMap: { ints: [0, 2] } }))).rejects.toThrow(/class labels \["0", "2"\]/);
  });

  it('reads K = 3, which requireBinary refuses', async () => {
    const { session, contract } = await openOnnxModel(sigmoidClassifier({ classes: 3 }));
    await session.release();
    expect(contract.classes).toBe(3);
    expect(() => requireBinary(contract)).toThrow("ONNX output 'probabilities' has 3 classes; Retrain scores binary classifiers (K = 2)");
  });

  it('names the outputs when there is no probabilities output', async () => {
    await expect(openOnnxModel(sigmoidClassifier({ output: 'scores' }))).rejects.toThrow("ONNX model has no 'probabilities' output (outputs: scores)");
  });
});

/** An skl2onnx-shaped linear classifier: inputs f0..f7 [N, 1], Concat, LinearClassifier (LOGISTIC) giving probabilities [N, 2]. */
function linearClassifier(coefficients: number[], intercept: number): Uint8Array {
  const names = coefficients.map((_, j) => `f${j}`);
  return encodeOnnxModel({
    name: 'linear',
    mlOpset: 1,
    nodes: [
      node({ opType: 'Concat', input: names, output: ['features'], attribute: [{ name: 'axis', type: AttributeType.INT, i: 1 }] }),
      node({
        opType: 'LinearClassifier',
        domain: 'ai.onnx.ml',
        input: ['features'],
        output: ['label', 'probabilities'],
        attribute: [
          { name: 'coefficients', type: AttributeType.FLOATS, floats: coefficients },
          { name: 'intercepts', type: AttributeType.FLOATS, floats: [intercept] },
          { name: 'classlabels_ints', type: AttributeType.INTS, ints: [0, 1] },
          { name: 'post_transform', type: AttributeType.STRING, s: new TextEncoder().encode('LOGISTIC') },
          { name: 'multi_class', type: AttributeType.INT, i: 0 },
        ],
      }),
    ],
    inputs: names.map((name) => ({ name, type: tensorType(DataType.FLOAT, ['N', 1]) })),
    outputs: [
      { name: 'label', type: tensorType(DataType.INT64, ['N']) },
      { name: 'probabilities', type: tensorType(DataType.FLOAT, ['N', 2]) },
    ],
  });
}

describe('a row scored alone', () => {
  it('scores as it does among other rows (a single row is fed twice)', async () => {
    const random = mulberry32(3);
    const coefficients = Array.from({ length: 8 }, () => random() * 4 - 2);
    const { session, contract } = await openOnnxModel(linearClassifier(coefficients, 0.3));
    const rows: FeatureRow[] = Array.from({ length: 300 }, () => Object.fromEntries(coefficients.map((_, j) => [`f${j}`, Math.round((random() * 4 - 2) * 1000) / 1000])));
    const run = async (part: readonly FeatureRow[]) => positiveProbabilities(readProbabilities(contract, await session.run(rowFeeds(contract, part), [contract.probabilitiesOutput]), part.length), part.length);
    const together = await run(rows);
    const alone: number[] = [];
    for (const row of rows) alone.push((await run([row]))[0]!);
    // Without the repeated row, onnxruntime's single-row path differs from the batch in the last bits on some rows.
    let unpadded = 0;
    for (const row of rows) {
      const feeds = Object.fromEntries(contract.inputs.map((input) => [input.name, new ort.Tensor('float32', Float32Array.of(row[input.name] as number), [1, 1])]));
      const data = (await session.run(feeds, [contract.probabilitiesOutput]))[contract.probabilitiesOutput]!.data as Float32Array;
      if (data[1] !== together[rows.indexOf(row)]) unpadded++;
    }
    await session.release();
    expect(alone).toEqual(Array.from(together));
    process.stderr.write(`[onnx-contract] rows whose single-row score differs without padding: ${unpadded} of ${rows.length}\n`);
  });

  it('is fed as two rows, and its probabilities are read without the repeat', () => {
    const contract: OnnxContract = { inputs: [{ name: 'x', type: 'float32', rank: 1 }, { name: 'c', type: 'string', rank: 2 }], probabilitiesOutput: 'probabilities', classes: 2, unwrappedZipMap: false };
    const feeds = rowFeeds(contract, [{ x: 0.25, c: null }]);
    expect([feeds.x!.dims, Array.from(feeds.x!.data as Float32Array)]).toEqual([[2], [0.25, 0.25]]);
    expect([feeds.c!.dims, feeds.c!.data]).toEqual([[2, 1], ['', '']]);
    const fromTable = tableFeeds(contract, { rows: 3, numeric: { x: Float64Array.from([1, 2, 3]) }, categorical: { c: ['a', 'b', 'c'] } }, 2, 3);
    expect([fromTable.x!.dims, Array.from(fromTable.x!.data as Float32Array), fromTable.c!.data]).toEqual([[2], [3, 3], ['c', 'c']]);
    const results = { probabilities: new ort.Tensor('float32', Float32Array.from([0.75, 0.25, 0.75, 0.25]), [2, 2]) };
    expect(Array.from(readProbabilities(contract, results, 1))).toEqual([0.75, 0.25]);
    expect(() => readProbabilities(contract, { probabilities: new ort.Tensor('float32', Float32Array.from([0.75, 0.25]), [1, 2]) }, 1)).toThrow('has shape [1, 2]; expected [2, 2]');
  });
});

describe('unwrapZipMap', () => {
  it('refuses an output no ZipMap produces', () => {
    expect(() => unwrapZipMap(sigmoidClassifier(), 'probabilities')).toThrow("ONNX output 'probabilities' is not a tensor and is produced by Concat, not a ZipMap");
  });
});

describe('input tensors from a feature table and from request rows', () => {
  const contract: OnnxContract = {
    inputs: [
      { name: 'f32', type: 'float32', rank: 2 },
      { name: 'f64', type: 'float64', rank: 1 },
      { name: 'n', type: 'int64', rank: 2 },
      { name: 'c', type: 'string', rank: 2 },
    ],
    probabilitiesOutput: 'probabilities',
    classes: 2,
    unwrappedZipMap: false,
  };
  const rows: FeatureRow[] = [
    { f32: 0.1, f64: 0.1, n: 3, c: 'a' },
    { f32: null, f64: null, n: -4, c: null },
    { f32: 1e-40, f64: 2.5, n: 0, c: '' },
  ];
  const table: FeatureTable = {
    rows: 3,
    numeric: { f32: Float64Array.from([0.1, NaN, 1e-40]), f64: Float64Array.from([0.1, NaN, 2.5]), n: Float64Array.from([3, -4, 0]) },
    categorical: { c: ['a', null, ''] },
  };
  const plain = (feeds: Record<string, ort.Tensor>) => Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, { type: t.type, dims: t.dims, data: Array.from(t.data as ArrayLike<unknown>) }]));

  it('are the same: "" for a missing categorical value, NaN for a missing numeric one', () => {
    const fromRows = plain(rowFeeds(contract, rows));
    expect(fromRows).toEqual(plain(tableFeeds(contract, table)));
    expect(fromRows).toEqual({
      f32: { type: 'float32', dims: [3, 1], data: [Math.fround(0.1), NaN, Math.fround(1e-40)] },
      f64: { type: 'float64', dims: [3], data: [0.1, NaN, 2.5] },
      n: { type: 'int64', dims: [3, 1], data: [3n, -4n, 0n] },
      c: { type: 'string', dims: [3, 1], data: ['a', '', ''] },
    });
  });

  it('cover a range of table rows', () => {
    expect(plain(tableFeeds(contract, table, 1, 3))).toEqual(plain(rowFeeds(contract, rows.slice(1))));
  });

  it('refuse a missing or fractional value for an int64 input, naming the feature and the row', () => {
    expect(() => rowFeeds(contract, [rows[0]!, { ...rows[0]!, n: null }])).toThrow(
      "feature 'n' row 1 is missing; the ONNX model's int64 input takes whole numbers only (no missing values)",
    );
    expect(() => rowFeeds(contract, [{ ...rows[0]!, n: 2.5 }])).toThrow("feature 'n' row 0 is 2.5;");
    expect(() => tableFeeds(contract, { ...table, numeric: { ...table.numeric, n: Float64Array.from([1, 2, NaN]) } })).toThrow("feature 'n' row 2 is NaN (missing);");
    expect(() => tableFeeds(contract, { ...table, numeric: { ...table.numeric, n: Float64Array.from([1, 2, 2 ** 60]) } }, 2, 3)).toThrow(/feature 'n' row 2 is 1152921504606847000/);
  });
});

describe('readProbabilities', () => {
  const contract: OnnxContract = { inputs: [], probabilitiesOutput: 'probabilities', classes: 2, unwrappedZipMap: false };
  const result = (dims: number[], data = new Float32Array(dims.reduce((a, b) => a * b, 1))) => ({ probabilities: new ort.Tensor('float32', data, dims) });

  it('returns the [N, K] data as computed', () => {
    const data = Float32Array.from([0.75, 0.25, 0.5, 0.5]);
    expect(readProbabilities(contract, result([2, 2], data), 2)).toBe(data);
    expect(Array.from(positiveProbabilities(data, 2))).toEqual([0.25, 0.5]);
  });

  it('checks the shape against the rows and K', () => {
    expect(() => readProbabilities(contract, result([3, 2]), 2)).toThrow("output 'probabilities' has shape [3, 2]; expected [2, 2]");
    expect(() => readProbabilities(contract, result([2, 3]), 2)).toThrow('expected [2, 2]');
    expect(() => readProbabilities(contract, result([4]), 4)).toThrow("has shape [4]; expected [4, 2]");
    expect(() => readProbabilities({ ...contract, classes: null }, result([2, 1]), 2)).toThrow('expected [2, K ≥ 2]');
    expect(readProbabilities({ ...contract, classes: null }, result([2, 3]), 2)).toHaveLength(6);
    expect(() => readProbabilities(contract, {}, 2)).toThrow("the run returned no 'probabilities' output");
  });
});
