import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../lib/spec/closest-name';
import { ModelSpec, parseModelSpec, parseRecordedModelSpec } from '../../lib/spec/model-spec';
import { knownFields } from '../../lib/spec/spec-issue-messages';

const ROOT = path.join(__dirname, '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;
const example = readJson('examples/flight-delay/model.json') as Record<string, unknown> & { schema: { columns: Record<string, unknown>[] }; training: Record<string, unknown> };

/** Every field name the schema knows anywhere (object keys and enum record keys), walked independently of lib/spec. */
function allFieldNames(schema: z.ZodType, into = new Set<string>()): Set<string> {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return allFieldNames(schema.unwrap() as z.ZodType, into);
  if (schema instanceof z.ZodArray) return allFieldNames(schema.element as z.ZodType, into);
  if (schema instanceof z.ZodDiscriminatedUnion) (schema.options as z.ZodType[]).forEach((o) => allFieldNames(o, into));
  if (schema instanceof z.ZodRecord) {
    if (schema.keyType instanceof z.ZodEnum) schema.keyType.options.forEach((k) => into.add(String(k)));
    allFieldNames(schema.valueType as z.ZodType, into);
  }
  if (schema instanceof z.ZodObject) {
    for (const [key, value] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      into.add(key);
      allFieldNames(value, into);
    }
  }
  return into;
}
const KNOWN_NAMES = allFieldNames(ModelSpec);

/**
 * Paths of the objects in a spec document whose keys the schema checks as fields: all but free-form
 * env and hyperparameters, and monitoring.tests.features, whose keys are feature names (checked
 * against the spec's features, with their own message: tested below).
 */
function checkedObjectPaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => checkedObjectPaths(v, [...at, i]));
  if (typeof value !== 'object' || value === null) return [];
  const last = at[at.length - 1];
  if (last === 'env' || last === 'hyperparameters') return [];
  if (last === 'features' && at[at.length - 2] === 'tests') return [];
  return [at, ...Object.entries(value).flatMap(([k, v]) => checkedObjectPaths(v, [...at, k]))];
}

function withField(spec: unknown, at: readonly (string | number)[], key: string, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(spec)) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const k of at) node = node[k] as Record<string | number, unknown>;
  node[key] = value;
  return copy;
}

const metric = fc.constantFrom('auc', 'prAuc', 'accuracy', 'f1', 'logLoss', 'brier', 'ece');

/** Valid spec documents: the example with optional fields set, left out or varied at random. */
const validSpec = fc
  .record({
    duplicates: fc.option(fc.constantFrom('keep', 'drop', 'refuse'), { nil: undefined }),
    score: fc.record(
      { nullable: fc.boolean(), allowNonFinite: fc.boolean(), min: fc.double({ min: -1e6, max: 0, noNaN: true }), max: fc.double({ min: 0, max: 1e6, noNaN: true }) },
      { requiredKeys: [] },
    ),
    trainer: fc.oneof(
      fc.record(
        { kind: fc.constant('builtin' as const), algorithm: fc.constantFrom('logistic_regression', 'mlp'), epochs: fc.integer({ min: 1, max: 20 }), l2: fc.double({ min: 0, max: 1, noNaN: true }), hiddenUnits: fc.integer({ min: 1, max: 1024 }) },
        { requiredKeys: ['kind'] },
      ),
      fc.record(
        { kind: fc.constant('external' as const), command: fc.constant(['python3', 'train.py']), env: fc.dictionary(fc.stringMatching(/^[A-Z_]{1,8}$/), fc.string()), hyperparameters: fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.jsonValue()), supportsWarmStart: fc.boolean() },
        { requiredKeys: ['kind', 'command'] },
      ),
    ),
    gates: fc.record({ minimums: fc.dictionary(metric, fc.double({ min: 0, max: 1, noNaN: true })), maxRegression: fc.dictionary(metric, fc.double({ min: 0, max: 1, noNaN: true })), sliceMinRows: fc.integer({ min: 1, max: 5000 }) }, { requiredKeys: [] }),
    promotion: fc.oneof(
      fc.constant({ strategy: 'direct' }),
      fc.record({ strategy: fc.constant('safe'), approval: fc.record({ approvers: fc.array(fc.constantFrom('alice', 'bob', 'on-call'), { minLength: 1 }), onTimeout: fc.constantFrom('reject', 'escalate') }, { requiredKeys: ['approvers'] }), canary: fc.record({ stages: fc.constantFrom([100], [10, 100], [1, 5, 25, 50, 100]), sprt: fc.record({ alpha: fc.double({ min: 0.01, max: 0.4, noNaN: true }) }, { requiredKeys: [] }) }, { requiredKeys: [] }) }),
    ),
  })
  .map(({ duplicates, score, trainer, gates, promotion }) => ({
    ...example,
    schema: { columns: [...example.schema.columns, { name: 'score', type: 'double', ...score }], ...(duplicates ? { duplicates } : {}) },
    training: { ...example.training, trainer },
    gates,
    promotion,
  }))
  // As a JSON file would hold it (no -0, no undefined).
  .map((spec) => JSON.parse(JSON.stringify(spec)) as Record<string, unknown>);

describe('strict model spec parsing', () => {
  it('accepts the examples, and a parsed spec (what models.spec stores) parses again to itself', () => {
    for (const file of ['examples/flight-delay/model.json', 'examples/flight-delay/model-live.json', 'examples/flight-delay/model-labeled.json', 'examples/python-trainer/model.json']) {
      const parsed = parseModelSpec(readJson(file), file);
      expect(parseModelSpec(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
    }
  });

  it('refuses a misspelt field with its path and the field it meant', () => {
    expect(() => parseModelSpec({ ...example, gates: { minimum: { auc: 0.7 } } })).toThrow("invalid model spec: gates.minimum: unknown field; did you mean 'minimums'?");
    expect(() => parseModelSpec({ ...example, gates: { minimums: { aucc: 0.7 } } })).toThrow("gates.minimums.aucc: unknown field; did you mean 'auc'?");
    const columns = [{ name: 'date', type: 'timestamp', nulable: true }, ...example.schema.columns.slice(1)];
    expect(() => parseModelSpec({ ...example, schema: { columns } })).toThrow("schema.columns.0.nulable: unknown field; did you mean 'nullable'?");
    expect(() => parseModelSpec({ ...example, schema: { columns: example.schema.columns, duplicate: 'drop' } })).toThrow("schema.duplicate: unknown field; did you mean 'duplicates'?");
    expect(() => parseModelSpec({ ...example, training: { trainer: { kind: 'external', command: ['x'], timeout: 5 } } })).toThrow(
      "training.trainer.timeout: unknown field; did you mean 'timeoutSeconds'?",
    );
    expect(() => parseModelSpec({ ...example, colour: 'red' })).toThrow(/^invalid model spec: colour: unknown field \(known: name, description, source, /);
  });

  it('refuses the fields of the first releases (gates.minAuc): the python example had them, silently ignored', () => {
    expect(() => parseModelSpec({ ...example, gates: { minAuc: 0.6, maxAucRegression: 0.01 } })).toThrow(
      "gates.minAuc: unknown field (known: minimums, maxRegression, sliceMaxRegression, sliceMinRows); gates.maxAucRegression: unknown field; did you mean 'maxRegression'?",
    );
  });

  it('checks the new schema rules: non-finite values only in double columns, a timestamp or date partition column, min <= max', () => {
    const columns = example.schema.columns;
    expect(() => parseModelSpec({ ...example, schema: { columns: [{ ...columns[0], allowNonFinite: true }, ...columns.slice(1)] } })).toThrow(
      "schema.columns.0.allowNonFinite: only double columns can hold NaN or Infinity; column 'date' is timestamp",
    );
    expect(() => parseModelSpec({ ...example, schema: { columns: [{ name: 'date', type: 'string' }, ...columns.slice(1)] } })).toThrow(
      "partition.column: partition column 'date' is declared string: it must be a timestamp or date column",
    );
    expect(() => parseModelSpec({ ...example, schema: { columns: [...columns, { name: 'x', type: 'double', min: 2, max: 1 }] } })).toThrow('schema.columns.5: min 2 is above max 1');
    const parsed = parseModelSpec(example).schema;
    expect(parsed.duplicates).toBe('keep');
    expect(parsed.columns[0]).toEqual({ name: 'date', type: 'timestamp', nullable: false });
  });

  it('checks the monitoring block against the features: names in tests.features and trigger.anyOf, and tests that take the feature kind', () => {
    const monitoring = example.monitoring as Record<string, unknown>;
    expect(() => parseModelSpec({ ...example, monitoring: { ...monitoring, tests: { features: { distanse: 'ks' } } } })).toThrow(
      'monitoring.tests.features.distanse: unknown feature',
    );
    expect(() => parseModelSpec({ ...example, monitoring: { ...monitoring, trigger: { anyOf: ['nope'] } } })).toThrow('monitoring.trigger.anyOf.0: unknown feature');
    expect(() => parseModelSpec({ ...example, monitoring: { ...monitoring, tests: { features: { origin: 'ks' } } } })).toThrow('monitoring.tests.features.origin');
  });

  it('accepts every generated valid spec, and parses its own output again unchanged', () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        const parsed = parseModelSpec(spec);
        expect(parseModelSpec(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses any unknown field added to any checked object, naming its path', () => {
    const unknownKey = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,14}$/).filter((k) => !KNOWN_NAMES.has(k) && k !== '__proto__');
    fc.assert(
      fc.property(
        validSpec.chain((spec) => fc.tuple(fc.constant(spec), fc.constantFrom(...checkedObjectPaths(spec)), unknownKey, fc.jsonValue())),
        ([spec, at, key, value]) => {
          const field = [...at, key].join('.');
          expect(() => parseModelSpec(withField(spec, at, key, value))).toThrow(`${field}: unknown field`);
          // The path that reads recorded specs drops it instead, and reads the rest as the strict parser would.
          expect(parseRecordedModelSpec(withField(spec, at, key, value))).toEqual(parseModelSpec(spec));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('suggests the intended field for any one-letter typo of a present field', () => {
    fc.assert(
      fc.property(
        validSpec.chain((spec) => {
          const fields = checkedObjectPaths(spec).flatMap((at) => {
            let node = spec as unknown as Record<string | number, unknown>;
            for (const k of at) node = node[k] as Record<string | number, unknown>;
            return Object.keys(node)
              .filter((k) => k.length >= 4)
              .map((k) => ({ at, key: k, value: node[k] }));
          });
          return fc.tuple(fc.constant(spec), fc.constantFrom(...fields), fc.nat(), fc.constantFrom('drop', 'swap', 'double'));
        }),
        ([spec, { at, key, value }, position, edit]) => {
          const i = position % (key.length - 1);
          const typo = edit === 'drop' ? key.slice(0, i) + key.slice(i + 1) : edit === 'swap' ? key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2) : key.slice(0, i) + key[i] + key.slice(i);
          const known = knownFields(ModelSpec, spec, at) ?? [];
          fc.pre(!known.includes(typo));
          // The original stays too: without it a required field or a union's `kind` would fail first.
          const document = withField(spec, at, typo, value);
          const suggestion = closestName(typo, known);
          expect(suggestion).toBeDefined();
          expect(editDistance(typo, suggestion!)).toBeLessThanOrEqual(editDistance(typo, key));
          expect(() => parseModelSpec(document)).toThrow(`${[...at, typo].join('.')}: unknown field; did you mean '${suggestion}'?`);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('specs recorded as workflow input', () => {
  // Workflows never parse their spec (they use the recorded input as it is), so replay does
  // not depend on these rules; this checks that the recorded specs would still be accepted.
  const histories = readdirSync(path.join(ROOT, 'test', 'replay', 'histories')).filter((f) => f.startsWith('retraining-pipeline-'));

  it.each(histories)('%s: its spec parses, strictly and as a recorded spec', (file) => {
    const { history } = readJson(`test/replay/histories/${file}`) as { history: { events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: Array<{ data: string }> } } }> } };
    const started = history.events[0]!.workflowExecutionStartedEventAttributes!;
    const input = JSON.parse(Buffer.from(started.input.payloads[0]!.data, 'base64').toString('utf8')) as { spec: unknown };
    expect(parseRecordedModelSpec(input.spec).name).toMatch(/^flight-delay/);
    expect(() => parseModelSpec(input.spec)).not.toThrow();
  });
});

describe('closestName', () => {
  it('finds near names, case-insensitively, and nothing for unrelated ones', () => {
    expect(closestName('minimum', ['minimums', 'maxRegression'])).toBe('minimums');
    expect(closestName('nullabel', ['name', 'type', 'nullable'])).toBe('nullable');
    expect(closestName('MaxRegresion', ['minimums', 'maxRegression'])).toBe('maxRegression');
    expect(closestName('colour', ['name', 'type', 'nullable', 'min', 'max'])).toBeUndefined();
    expect(closestName('mn', ['min', 'max'])).toBe('min');
    expect(editDistance('abcd', 'abdc')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
