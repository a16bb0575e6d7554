import { describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../../lib/spec/model-spec';
import { parseInferRequest } from '../../gateway/infer-request';
import { createInstanceValidator } from '../../gateway/instance-validation';
import { parsePredictRequest } from '../../gateway/predict-request';
import { GatewayRequestError } from '../../gateway/request-error';

const features: FeatureSpec[] = [
  { name: 'dep_hour', kind: 'numeric' },
  { name: 'distance', kind: 'numeric' },
  { name: 'origin', kind: 'categorical', maxCategories: 200 },
];
const validator = createInstanceValidator(features);
const good = { dep_hour: 7.5, distance: 950, origin: 'SFO' };

/** The 400 message a body gets, or a failure if it was accepted. */
function refusal(body: unknown, maxInstances = 10): string {
  try {
    parsePredictRequest(body, validator, maxInstances);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect((err as GatewayRequestError).statusCode).toBe(400);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(body)}`);
}

function inferRefusal(body: unknown, maxInstances = 10): string {
  try {
    parseInferRequest(body, features, maxInstances);
  } catch (err) {
    expect((err as GatewayRequestError).statusCode).toBe(400);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(body)}`);
}

describe('v1 predict request validation', () => {
  it('accepts one instance and keeps the given request id for it', () => {
    const parsed = parsePredictRequest({ instance: good, requestId: 'r-1', routingKey: 'user-9' }, validator, 10);
    expect(parsed).toEqual({ instances: [good], requestId: 'r-1', itemIds: ['r-1'], routingKey: 'user-9' });
  });

  it('gives batch items the ids <requestId>/<index> and generates a UUID when no id is sent', () => {
    const parsed = parsePredictRequest({ instances: [good, { ...good, origin: null }] }, validator, 10);
    expect(parsed.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parsed.itemIds).toEqual([`${parsed.requestId}/0`, `${parsed.requestId}/1`]);
    expect(parsed.routingKey).toBeNull();
  });

  it('accepts null as an explicit missing value of either kind', () => {
    expect(parsePredictRequest({ instance: { dep_hour: null, distance: 1, origin: null } }, validator, 10).instances).toHaveLength(1);
  });

  it('names the instance, the feature and both types for a wrong type', () => {
    expect(refusal({ instances: [good, good, good, { ...good, distance: '950' }] })).toBe("instance 3: feature 'distance' must be a number, got string");
    expect(refusal({ instance: { ...good, origin: 12 } })).toBe("instance: feature 'origin' must be a string, got number");
    expect(refusal({ instance: { ...good, distance: [1] } })).toBe("instance: feature 'distance' must be a number, got array");
  });

  it('names a missing feature and its kind', () => {
    const { distance: _, ...withoutDistance } = good;
    expect(refusal({ instances: [withoutDistance] })).toBe("instance 0: missing feature 'distance' (numeric: a number or null)");
  });

  it('names extra features and lists the model\'s features', () => {
    expect(refusal({ instance: { ...good, carrier: 'AA', seats: 3 } })).toBe(
      "instance: unknown features 'carrier', 'seats'; the model's features are: dep_hour, distance, origin",
    );
  });

  it('lists several problems in one message', () => {
    expect(refusal({ instances: [{ ...good, distance: 'x' }, { ...good, dep_hour: true }] })).toBe(
      "instance 0: feature 'distance' must be a number, got string; instance 1: feature 'dep_hour' must be a number, got boolean",
    );
  });

  it('refuses an empty batch, a batch over the limit, both forms at once, or neither', () => {
    expect(refusal({ instances: [] })).toBe("'instances' is empty; send at least one instance");
    expect(refusal({ instances: Array(11).fill(good) }, 10)).toBe("'instances' has 11 items; at most 10 are accepted per request");
    expect(refusal({ instance: good, instances: [good] })).toBe("send either 'instance' or 'instances', not both");
    expect(refusal({ requestId: 'x' })).toBe("request body needs 'instance' (one object of features) or 'instances' (an array of them)");
  });

  it('refuses bodies that are not objects, unknown top-level fields and bad ids', () => {
    expect(refusal([good])).toBe("request body must be a JSON object with 'instance' or 'instances', got array");
    expect(refusal({ instance: good, model: 'x' })).toBe("unknown field 'model' in the request body; accepted: instance or instances, requestId, routingKey");
    expect(refusal({ instance: good, requestId: 7 })).toBe("'requestId' must be a non-empty string of at most 200 characters, without control characters");
    expect(refusal({ instance: good, routingKey: 'k'.repeat(201) })).toBe("'routingKey' must be a non-empty string of at most 200 characters, without control characters");
    expect(refusal({ instance: good, requestId: 'a\u0000b' })).toBe("'requestId' must be a non-empty string of at most 200 characters, without control characters");
    expect(refusal({ instances: { a: 1 } })).toBe("'instances' must be an array of objects of feature values");
    expect(refusal({ instances: [3] })).toBe('instance 0: must be an object of feature values, got number');
  });
});

describe('v2 infer request validation', () => {
  const inputs = [
    { name: 'dep_hour', shape: [2, 1], datatype: 'FP32', data: [7.5, 8] },
    { name: 'distance', shape: [2], datatype: 'INT64', data: [[950], [120]] },
    { name: 'origin', shape: [2, 1], datatype: 'BYTES', data: ['SFO', null] },
  ];

  it('turns input tensors into instances, with ids <id>/<row> and the routing key from parameters', () => {
    const parsed = parseInferRequest({ id: 'q', inputs, parameters: { routing_key: 'u1' } }, features, 10);
    expect(parsed.instances).toEqual([
      { dep_hour: 7.5, distance: 950, origin: 'SFO' },
      { dep_hour: 8, distance: 120, origin: null },
    ]);
    expect(parsed.itemIds).toEqual(['q/0', 'q/1']);
    expect(parsed.routingKey).toBe('u1');
  });

  it('logs a one-row request under its id', () => {
    const one = inputs.map((i) => ({ ...i, shape: [1, 1], data: i.data.slice(0, 1) }));
    expect(parseInferRequest({ id: 'q', inputs: one }, features, 10).itemIds).toEqual(['q']);
  });

  it('names missing, unknown and duplicated inputs', () => {
    expect(inferRefusal({ inputs: inputs.slice(1) })).toBe("missing input 'dep_hour' (FP32, shape [-1, 1])");
    expect(inferRefusal({ inputs: [...inputs, { ...inputs[0]!, name: 'carrier' }] })).toBe(
      "unknown input 'carrier'; the model's inputs are: dep_hour, distance, origin",
    );
    expect(inferRefusal({ inputs: [...inputs, inputs[0]] })).toBe("input 'dep_hour' appears more than once");
  });

  it('names datatype, shape, length and value problems', () => {
    const with0 = (patch: object) => ({ inputs: [{ ...inputs[0]!, ...patch }, ...inputs.slice(1)] });
    expect(inferRefusal(with0({ datatype: 'BYTES' }))).toBe("input 'dep_hour' has datatype BYTES; the numeric feature takes FP32 (or another numeric type)");
    expect(inferRefusal(with0({ data: [7.5] }))).toBe("input 'dep_hour' has 1 values for shape [2, 1]");
    expect(inferRefusal(with0({ shape: [2, 2], data: [1, 2, 3, 4] }))).toBe("input 'dep_hour' has shape [2, 2]; expected [2] or [2, 1]");
    expect(inferRefusal(with0({ data: [7.5, '8'] }))).toBe("input 'dep_hour' row 1: must be a number, got string");
    expect(inferRefusal(with0({ shape: [3, 1], data: [1, 2, 3] }))).toBe("inputs disagree on the number of rows: 'dep_hour' has 3, 'distance' has 2, 'origin' has 2");
  });

  it('refuses too many rows, unknown outputs and malformed bodies', () => {
    const many = inputs.map((i) => ({ ...i, shape: [11, 1], data: Array(11).fill(i.data[0]) }));
    expect(inferRefusal({ inputs: many }, 10)).toBe('the inputs have 11 rows; at most 10 are accepted per request');
    expect(inferRefusal({ inputs, outputs: [{ name: 'label' }] })).toBe("unknown output 'label'; this model has: probabilities");
    expect(inferRefusal({ inputs: [] })).toMatch(/^inputs: /);
    expect(inferRefusal({ inputs: [{ name: 'dep_hour', datatype: 'FP32', data: [1] }] })).toMatch(/^inputs\.0\.shape: /);
  });
});
