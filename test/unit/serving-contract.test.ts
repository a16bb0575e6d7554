import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticFeatureTable } from '../../lib/data/synthetic-feature-table';
import { describeContractChange, isBreaking, servingContractChange } from '../../lib/policy/serving-contract-change';
import { readServingContract } from '../../lib/scoring/version-contract';
import { BuiltinTrainerSpec, type FeatureSpec } from '../../lib/spec/model-spec';
import { parseServingContract } from '../../lib/spec/serving-contract';
import { exportBuiltinModelToOnnx, trainBuiltinModel } from '../../lib/training/trainers';

describe('the serving contract of a version', () => {
  let bytes: Uint8Array;
  let features: FeatureSpec[];

  beforeAll(async () => {
    const train = syntheticFeatureTable({ rows: 2_000, seed: 5 });
    features = train.features;
    const model = await trainBuiltinModel({ table: train.table, features, classes: 2, options: BuiltinTrainerSpec.parse({ kind: 'builtin' }), epochs: 1 });
    bytes = exportBuiltinModelToOnnx(model);
  });

  it('is read from the registered model: the features by name and kind, the ONNX input types, the classes and the decision threshold', async () => {
    const contract = await readServingContract(bytes, features);
    expect(contract).toEqual({
      features: features.map((f) => ({ name: f.name, kind: f.kind })),
      inputs: features.map((f) => ({ name: f.name, type: f.kind === 'numeric' ? 'float32' : 'string' })),
      classes: 2,
      decisionThreshold: 0.5,
      origin: 'registered',
    });
    // What a client sends is all it holds: the trainer's sql and maxCategories stay out.
    expect(JSON.stringify(contract)).not.toMatch(/sql|maxCategories/);
    expect(parseServingContract(JSON.parse(JSON.stringify(contract)), 'v1')).toEqual(contract);
  });

  it('refuses a model that reads an input the features cannot feed', async () => {
    await expect(readServingContract(bytes, features.filter((f) => f.name !== 'hour'))).rejects.toThrow(/the model reads input 'hour', which is not a feature of the serving contract/);
    const recast = features.map((f): FeatureSpec => (f.name === 'origin' ? { name: 'origin', kind: 'numeric' } : f));
    await expect(readServingContract(bytes, recast)).rejects.toThrow("the model reads 'origin' as string, but the serving contract declares it numeric");
  });

  it('names the version and the field when a stored contract does not parse', () => {
    expect(() => parseServingContract({ features: [], inputs: null, classes: null, decisionThreshold: 0.5, origin: 'backfilled' }, 'flight-delay v3')).toThrow(
      /invalid serving contract of flight-delay v3: features: /,
    );
  });
});

describe('a spec change against the serving contract', () => {
  const served = [
    { name: 'dep_hour', kind: 'numeric' as const },
    { name: 'origin', kind: 'categorical' as const },
  ];

  it('is not breaking when only what clients never see changes (order, sql, categories)', () => {
    const change = servingContractChange(served, [...served].reverse());
    expect(isBreaking(change)).toBe(false);
    expect(describeContractChange(change)).toBe('');
  });

  it('is breaking for a feature added, removed or retyped, and names each', () => {
    const added = servingContractChange(served, [...served, { name: 'wind', kind: 'numeric' }]);
    expect(isBreaking(added)).toBe(true);
    expect(describeContractChange(added)).toBe("adds feature 'wind' (numeric)");
    const removed = servingContractChange(served, served.slice(1));
    expect(describeContractChange(removed)).toBe("removes feature 'dep_hour' (numeric)");
    const retyped = servingContractChange(served, [served[0]!, { name: 'origin', kind: 'numeric' }]);
    expect(describeContractChange(retyped)).toBe("changes feature 'origin' from categorical to numeric");
    expect(describeContractChange(servingContractChange(served, [{ name: 'origin', kind: 'numeric' }, { name: 'wind', kind: 'numeric' }]))).toBe(
      "adds feature 'wind' (numeric); removes feature 'dep_hour' (numeric); changes feature 'origin' from categorical to numeric",
    );
  });
});
