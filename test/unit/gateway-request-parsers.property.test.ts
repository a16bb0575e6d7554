import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFeedbackRequest } from '../../gateway/feedback-request';
import { parseInferRequest } from '../../gateway/infer-request';
import { createInstanceValidator, FLOAT32_MAX, type InstanceValidator, type NumericInputType } from '../../gateway/instance-validation';
import { parsePredictRequest } from '../../gateway/predict-request';
import { GatewayRequestError } from '../../gateway/request-error';
import { unstorableCharacter } from '../../gateway/storable-text';
import type { OnnxInput } from '../../lib/scoring/onnx-contract';
import type { FeatureSpec } from '../../lib/spec/model-spec';

const MAX_INSTANCES = 8;

/** A model: features of both kinds, numeric ones fed to float64, float32 or int64 inputs. */
interface Model {
  features: FeatureSpec[];
  types: Map<string, NumericInputType>;
  validator: InstanceValidator;
}

const modelArb: fc.Arbitrary<Model> = fc
  .uniqueArray(
    fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/),
      kind: fc.constantFrom('numeric' as const, 'categorical' as const),
      type: fc.constantFrom<NumericInputType>('float64', 'float32', 'int64'),
    }),
    { minLength: 1, maxLength: 5, selector: (f) => f.name },
  )
  .map((specs) => {
    const features: FeatureSpec[] = specs.map((f) => (f.kind === 'numeric' ? { name: f.name, kind: 'numeric' } : { name: f.name, kind: 'categorical', maxCategories: 100 }));
    const inputs: OnnxInput[] = specs.map((f) => ({ name: f.name, type: f.kind === 'numeric' ? f.type : 'string', rank: 2 }));
    const types = new Map(specs.filter((f) => f.kind === 'numeric').map((f) => [f.name, f.type]));
    return { features, types, validator: createInstanceValidator(features, [inputs]) };
  });

/** Strings Postgres can store: any code points but NUL, no lone surrogate. */
const storableString = (options: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: 'binary', ...options }).filter((s) => unstorableCharacter(s) === null);
const idArb = storableString({ minLength: 1, maxLength: 200 }).filter((s) => !/\p{Cc}/u.test(s));

function validValue(model: Model, feature: FeatureSpec): fc.Arbitrary<number | string | null> {
  if (feature.kind === 'categorical') return fc.option(storableString({ maxLength: 20 }), { nil: null });
  const type = model.types.get(feature.name)!;
  if (type === 'int64') return fc.maxSafeInteger();
  const range = type === 'float32' ? { min: -FLOAT32_MAX, max: FLOAT32_MAX } : {};
  return fc.option(fc.double({ noNaN: true, noDefaultInfinity: true, ...range }), { nil: null });
}

const instanceArb = (model: Model) => fc.record(Object.fromEntries(model.features.map((f) => [f.name, validValue(model, f)])));

/** A valid predict body for the model, as it arrives over HTTP (through JSON). */
const predictBodyArb = (model: Model) =>
  fc
    .record(
      {
        rows: fc.oneof(instanceArb(model).map((i) => ({ instance: i })), fc.array(instanceArb(model), { minLength: 1, maxLength: MAX_INSTANCES }).map((is) => ({ instances: is }))),
        requestId: idArb,
        routingKey: idArb,
      },
      { requiredKeys: ['rows'] },
    )
    .map(({ rows, ...ids }) => JSON.parse(JSON.stringify({ ...rows, ...ids })) as Record<string, unknown>);

/** A value the feature's rule refuses, and whether it survives JSON (Infinity does not). */
function invalidValue(model: Model, feature: FeatureSpec): fc.Arbitrary<unknown> {
  const wrongType = fc.oneof(fc.boolean(), fc.constant([1]), fc.constant({ a: 1 }));
  if (feature.kind === 'categorical') {
    return fc.oneof(wrongType, fc.double(), fc.constantFrom('a\u0000b', '\u0000', 'x\ud800', '\udc00y'));
  }
  const type = model.types.get(feature.name)!;
  const base = fc.oneof(wrongType, fc.string(), fc.constantFrom(Infinity, -Infinity));
  if (type === 'int64') return fc.oneof(base, fc.constant(null), fc.constantFrom(0.5, -2.25, 2 ** 53, -(2 ** 60), 1e300));
  if (type === 'float32') return fc.oneof(base, fc.double({ min: 3.5e38, noNaN: true, noDefaultInfinity: true }), fc.double({ max: -3.5e38, noNaN: true, noDefaultInfinity: true }));
  return base;
}

const invalidId = fc.oneof(fc.constant(''), fc.constant(7), fc.constant(null), fc.constant('a\nb'), fc.constant('\u0000'), fc.constant('x\ud800'), fc.constant('r'.repeat(201)));

/** The refusal of a call, or null when it parsed; anything but a GatewayRequestError fails the property. */
function refusalOf(call: () => unknown): GatewayRequestError | null {
  try {
    call();
    return null;
  } catch (err) {
    if (!(err instanceof GatewayRequestError)) throw new Error(`not a GatewayRequestError: ${String(err)}`, { cause: err });
    return err;
  }
}

const isClientError = (err: GatewayRequestError) => err.statusCode >= 400 && err.statusCode < 500;

describe('predict request parsing (properties)', () => {
  it('parses any valid body to the values it holds', () => {
    fc.assert(
      fc.property(modelArb.chain((m) => fc.tuple(fc.constant(m), predictBodyArb(m))), ([model, body]) => {
        const parsed = parsePredictRequest(body, model.validator, MAX_INSTANCES);
        const rows = 'instance' in body ? [body.instance] : (body.instances as unknown[]);
        expect(parsed.instances).toEqual(rows);
        expect(parsed.routingKey).toBe(body.routingKey ?? null);
        if (body.requestId !== undefined) expect(parsed.requestId).toBe(body.requestId);
        expect(parsed.itemIds).toEqual('instance' in body ? [parsed.requestId] : rows.map((_, i) => `${parsed.requestId}/${i}`));
      }),
    );
  });

  it('refuses a body with one invalid feature value with a 4xx naming that field', () => {
    const arb = modelArb.chain((model) =>
      fc.tuple(fc.constant(model), predictBodyArb(model), fc.nat(), fc.nat()).chain(([m, body, featureIndex, row]) => {
        const feature = m.features[featureIndex % m.features.length]!;
        return fc.tuple(fc.constant(m), fc.constant(body), fc.constant(feature), fc.constant(row), invalidValue(m, feature));
      }),
    );
    fc.assert(
      fc.property(arb, ([model, body, feature, row, value]) => {
        const batch = 'instances' in body;
        const rows = structuredClone(batch ? (body.instances as Record<string, unknown>[]) : [body.instance as Record<string, unknown>]);
        const i = row % rows.length;
        rows[i]![feature.name] = value;
        const bad = batch ? { ...body, instances: rows } : { ...body, instance: rows[0] };
        const err = refusalOf(() => parsePredictRequest(bad, model.validator, MAX_INSTANCES));
        expect(err).not.toBeNull();
        expect(isClientError(err!)).toBe(true);
        expect(err!.field).toBe(batch ? `instances[${i}].${feature.name}` : `instance.${feature.name}`);
        expect(err!.message).toContain(`'${feature.name}'`);
        expect(err!.message).not.toMatch(/must be a number, got number/);
      }),
    );
  });

  it('refuses a missing feature, an unknown feature, a bad id or an unknown field, naming it', () => {
    const arb = modelArb.chain((m) => fc.tuple(fc.constant(m), predictBodyArb(m), fc.nat(), fc.constantFrom('missing', 'unknown', 'requestId', 'routingKey', 'field'), invalidId));
    fc.assert(
      fc.property(arb, ([model, body, n, mutation, id]) => {
        const batch = 'instances' in body;
        const rows = structuredClone(batch ? (body.instances as Record<string, unknown>[]) : [body.instance as Record<string, unknown>]);
        const i = n % rows.length;
        const feature = model.features[n % model.features.length]!;
        const at = batch ? `instances[${i}]` : 'instance';
        let bad: Record<string, unknown> = body;
        let field: string;
        if (mutation === 'missing') {
          delete rows[i]![feature.name];
          field = `${at}.${feature.name}`;
        } else if (mutation === 'unknown') {
          rows[i]!.zz_unknown = 1;
          field = `${at}.zz_unknown`;
        } else if (mutation === 'field') {
          bad = { ...body, zz_extra: true };
          field = 'zz_extra';
        } else {
          bad = { ...body, [mutation]: id };
          field = mutation;
        }
        if (mutation === 'missing' || mutation === 'unknown') bad = batch ? { ...body, instances: rows } : { ...body, instance: rows[0] };
        const err = refusalOf(() => parsePredictRequest(bad, model.validator, MAX_INSTANCES));
        expect(err).not.toBeNull();
        expect(isClientError(err!)).toBe(true);
        expect(err!.field).toBe(field);
      }),
    );
  });

  it('never fails with anything but a 4xx on any JSON body', () => {
    const bodies = fc.oneof(
      fc.jsonValue(),
      fc.record({ instance: fc.jsonValue(), requestId: fc.jsonValue(), routingKey: fc.jsonValue() }, { requiredKeys: [] }),
      fc.record({ instances: fc.array(fc.dictionary(fc.string(), fc.jsonValue())) }),
    );
    fc.assert(
      fc.property(modelArb, bodies, (model, body) => {
        const err = refusalOf(() => parsePredictRequest(body, model.validator, MAX_INSTANCES));
        if (err) expect(isClientError(err)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

/** The v2 body holding `rows` of the model, one tensor per feature in the model's order. */
function inferBody(model: Model, rows: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    inputs: model.features.map((f) => ({ name: f.name, shape: [rows.length, 1], datatype: f.kind === 'numeric' ? 'FP64' : 'BYTES', data: rows.map((r) => r[f.name]) })),
  };
}

describe('infer request parsing (properties)', () => {
  const arb = modelArb.chain((m) => fc.tuple(fc.constant(m), fc.array(instanceArb(m), { minLength: 1, maxLength: MAX_INSTANCES }), fc.option(idArb, { nil: undefined })));

  it('parses any valid body to the rows it holds', () => {
    fc.assert(
      fc.property(arb, ([model, rows, id]) => {
        const body = JSON.parse(JSON.stringify(inferBody(model, rows, id === undefined ? {} : { id }))) as unknown;
        const parsed = parseInferRequest(body, model.validator, MAX_INSTANCES);
        expect(parsed.instances).toEqual(JSON.parse(JSON.stringify(rows)));
        if (id !== undefined) expect(parsed.requestId).toBe(id);
      }),
    );
  });

  it('refuses one invalid value with a 4xx naming its input and row', () => {
    const withBad = arb.chain(([m, rows]) =>
      fc.tuple(fc.constant(m), fc.constant(rows), fc.nat(), fc.nat()).chain(([mm, rs, f, r]) => {
        const feature = mm.features[f % mm.features.length]!;
        return fc.tuple(fc.constant(mm), fc.constant(rs), fc.constant(f % mm.features.length), fc.constant(r % rs.length), invalidValue(mm, feature));
      }),
    );
    fc.assert(
      fc.property(withBad, ([model, rows, f, r, value]) => {
        // Nested arrays are a form the protocol allows (flattened one level): a value that is an array is not a bad value there.
        fc.pre(!Array.isArray(value));
        const body = inferBody(model, rows);
        body.inputs[f]!.data[r] = value;
        const err = refusalOf(() => parseInferRequest(body, model.validator, MAX_INSTANCES));
        expect(err).not.toBeNull();
        expect(isClientError(err!)).toBe(true);
        expect(err!.field).toBe(`inputs[${f}].data[${r}]`);
      }),
    );
  });

  it('refuses a wrong datatype, a bad id or routing key, naming the field', () => {
    fc.assert(
      fc.property(arb, fc.nat(), fc.constantFrom('datatype', 'id', 'routing_key'), invalidId, ([model, rows], f, mutation, id) => {
        const body: Record<string, unknown> & { inputs: { datatype: string }[] } = inferBody(model, rows);
        const i = f % model.features.length;
        let field: string;
        if (mutation === 'datatype') {
          body.inputs[i]!.datatype = model.features[i]!.kind === 'numeric' ? 'BYTES' : 'FP32';
          field = `inputs[${i}].datatype`;
        } else if (mutation === 'id') {
          body.id = id;
          field = 'id';
        } else {
          body.parameters = { routing_key: id };
          field = 'parameters.routing_key';
        }
        const err = refusalOf(() => parseInferRequest(body, model.validator, MAX_INSTANCES));
        expect(err).not.toBeNull();
        expect(isClientError(err!)).toBe(true);
        expect(err!.field).toBe(field);
      }),
    );
  });

  it('never fails with anything but a 4xx on any JSON body', () => {
    const tensor = fc.record({ name: fc.oneof(fc.string(), fc.jsonValue()), shape: fc.jsonValue(), datatype: fc.jsonValue(), data: fc.jsonValue() }, { requiredKeys: [] });
    const bodies = fc.oneof(fc.jsonValue(), fc.record({ id: fc.jsonValue(), inputs: fc.oneof(fc.jsonValue(), fc.array(tensor)), parameters: fc.jsonValue(), outputs: fc.jsonValue() }, { requiredKeys: [] }));
    fc.assert(
      fc.property(modelArb, bodies, (model, body) => {
        const err = refusalOf(() => parseInferRequest(body, model.validator, MAX_INSTANCES));
        if (err) expect(isClientError(err)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('feedback request parsing (properties)', () => {
  it('parses any valid body to its id and label', () => {
    fc.assert(
      fc.property(idArb, fc.constantFrom(0 as const, 1 as const), (requestId, label) => {
        expect(parseFeedbackRequest(JSON.parse(JSON.stringify({ requestId, label })))).toEqual({ requestId, label });
      }),
    );
  });

  it('refuses one invalid field with a 4xx naming it', () => {
    const badLabel = fc.oneof(fc.integer().filter((n) => n !== 0 && n !== 1), fc.double().filter((n) => n !== 0 && n !== 1), fc.string(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(idArb, fc.constantFrom(0, 1), fc.constantFrom('requestId', 'label', 'extra'), invalidId, badLabel, (requestId, label, mutation, id, wrong) => {
        const body: Record<string, unknown> = { requestId, label };
        if (mutation === 'requestId') body.requestId = id;
        else if (mutation === 'label') body.label = wrong;
        else body.extra = 1;
        const err = refusalOf(() => parseFeedbackRequest(body));
        expect(err).not.toBeNull();
        expect(isClientError(err!)).toBe(true);
        expect(err!.field).toBe(mutation);
      }),
    );
  });

  it('never fails with anything but a 4xx on any JSON body', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ requestId: fc.jsonValue(), label: fc.jsonValue() }, { requiredKeys: [] })), (body) => {
        const err = refusalOf(() => parseFeedbackRequest(body));
        if (err) expect(isClientError(err)).toBe(true);
      }),
    );
  });
});
