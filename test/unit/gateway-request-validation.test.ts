import { describe, expect, it } from 'vitest';
import type { OnnxInput } from '../../lib/scoring/onnx-contract';
import type { FeatureSpec } from '../../lib/spec/model-spec';
import { parseFeedbackRequest } from '../../gateway/feedback-request';
import { parseInferRequest } from '../../gateway/infer-request';
import { createInstanceValidator, FLOAT32_MAX } from '../../gateway/instance-validation';
import { parsePredictRequest } from '../../gateway/predict-request';
import { GatewayRequestError } from '../../gateway/request-error';

const features: FeatureSpec[] = [
  { name: 'dep_hour', kind: 'numeric' },
  { name: 'distance', kind: 'numeric' },
  { name: 'origin', kind: 'categorical', maxCategories: 200 },
];
const validator = createInstanceValidator(features);
const good = { dep_hour: 7.5, distance: 950, origin: 'SFO' };

/** The refusal a call throws: status, code, field and message. */
function refusalOf(call: () => unknown): { status: number; code: string; field: string | undefined; message: string } {
  try {
    call();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayRequestError);
    const e = err as GatewayRequestError;
    return { status: e.statusCode, code: e.code, field: e.field, message: e.message };
  }
  throw new Error('accepted');
}

/** The 400 message a predict body gets. */
function refusal(body: unknown, maxInstances = 10, v = validator): string {
  const r = refusalOf(() => parsePredictRequest(body, v, maxInstances));
  expect(r.status).toBe(400);
  return r.message;
}

function inferRefusal(body: unknown, maxInstances = 10, v = validator): string {
  const r = refusalOf(() => parseInferRequest(body, v, maxInstances));
  expect(r.status).toBe(400);
  return r.message;
}

describe('v1 predict request validation', () => {
  it('accepts one instance and keeps the given request id for it', () => {
    const parsed = parsePredictRequest({ instance: good, requestId: 'r-1', routingKey: 'user-9' }, validator, 10);
    expect(parsed).toEqual({ instances: [good], requestId: 'r-1', itemIds: ['r-1'], routingKey: 'user-9', idField: 'requestId' });
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

  it('names the instance, the feature, the value and both types for a wrong type, with the field', () => {
    expect(refusalOf(() => parsePredictRequest({ instances: [good, good, good, { ...good, distance: 'far' }] }, validator, 10))).toEqual({
      status: 400,
      code: 'invalid_feature',
      field: 'instances[3].distance',
      message: "instance 3: feature 'distance' must be a number or null, got string 'far'",
    });
    expect(refusal({ instance: { ...good, origin: 12 } })).toBe("instance: feature 'origin' must be a string or null, got number 12");
    expect(refusal({ instance: { ...good, distance: [1] } })).toBe("instance: feature 'distance' must be a number or null, got array");
    expect(refusal({ instance: { ...good, distance: true } })).toBe("instance: feature 'distance' must be a number or null, got boolean true");
  });

  it('refuses numbers beyond float64 (JSON 1e400 parses to Infinity) without saying "got number"', () => {
    const body = JSON.parse('{"instance": {"dep_hour": 1e400, "distance": 1, "origin": "SFO"}}');
    const message = refusal(body);
    expect(message).toBe("instance: feature 'dep_hour' is beyond the float64 range (|x| ≤ 1.7976931348623157e+308); send a finite number or null");
    expect(message).not.toMatch(/got number/);
  });

  it('holds numbers to the float32 range when a version reads the feature as float32', () => {
    const inputs: OnnxInput[] = [
      { name: 'dep_hour', type: 'float64', rank: 2 },
      { name: 'distance', type: 'float32', rank: 2 },
      { name: 'origin', type: 'string', rank: 2 },
    ];
    const float32 = createInstanceValidator(features, [inputs]);
    expect(parsePredictRequest({ instance: { ...good, distance: FLOAT32_MAX, dep_hour: 1e300 } }, float32, 10).instances).toHaveLength(1);
    expect(parsePredictRequest({ instance: { ...good, distance: -FLOAT32_MAX } }, float32, 10).instances).toHaveLength(1);
    for (const distance of [1e39, -1e39, 1e300]) {
      expect(refusalOf(() => parsePredictRequest({ instance: { ...good, distance } }, float32, 10))).toEqual({
        status: 400,
        code: 'invalid_feature',
        field: 'instance.distance',
        message: `instance: feature 'distance' is ${distance}, beyond the float32 range of the model's input (|x| ≤ 3.4028234663852886e+38)`,
      });
    }
  });

  it('takes the strictest input type among the versions of a route', () => {
    const a: OnnxInput[] = [{ name: 'distance', type: 'float64', rank: 2 }];
    const b: OnnxInput[] = [{ name: 'distance', type: 'int64', rank: 2 }];
    const c: OnnxInput[] = [{ name: 'distance', type: 'float32', rank: 1 }];
    expect(createInstanceValidator(features, [a, c]).numericTypes.get('distance')).toBe('float32');
    expect(createInstanceValidator(features, [a, b, c]).numericTypes.get('distance')).toBe('int64');
    expect(createInstanceValidator(features, [a]).numericTypes.get('dep_hour')).toBe('float64');
  });

  it('holds an int64 input to safe whole numbers, without missing values', () => {
    const int64 = createInstanceValidator(features, [[{ name: 'distance', type: 'int64', rank: 2 }]]);
    expect(parsePredictRequest({ instance: { ...good, distance: Number.MAX_SAFE_INTEGER } }, int64, 10).instances).toHaveLength(1);
    expect(refusal({ instance: { ...good, distance: 2.5 } }, 10, int64)).toBe("instance: feature 'distance' is 2.5; the model's int64 input takes whole numbers with |x| ≤ 9007199254740991");
    expect(refusal({ instance: { ...good, distance: 2 ** 53 } }, 10, int64)).toMatch(/is 9007199254740992; the model's int64 input/);
    expect(refusal({ instance: { ...good, distance: null } }, 10, int64)).toBe("instance: feature 'distance' is null (missing), but the model's int64 input takes no missing value");
    expect(refusal({ instance: { ...good, distance: 'x' } }, 10, int64)).toBe("instance: feature 'distance' must be a number, got string 'x'");
  });

  it('refuses strings Postgres cannot store: NUL and unpaired surrogates, naming the feature', () => {
    expect(refusalOf(() => parsePredictRequest({ instance: { ...good, origin: 'S\u0000FO' } }, validator, 10))).toEqual({
      status: 400,
      code: 'invalid_feature',
      field: 'instance.origin',
      message: "instance: feature 'origin' contains U+0000 (NUL), which Postgres cannot store in text",
    });
    expect(refusal({ instances: [good, { ...good, origin: 'a\ud800b' }] })).toBe("instance 1: feature 'origin' contains an unpaired surrogate U+D800, which is not valid Unicode");
    expect(refusal({ instance: { ...good, origin: '\udc00' } })).toMatch(/unpaired surrogate U\+DC00/);
    // A pair is a character (here U+1F600).
    expect(parsePredictRequest({ instance: { ...good, origin: '\ud83d\ude00' } }, validator, 10).instances).toHaveLength(1);
  });

  it('names a missing feature and its kind', () => {
    const { distance: _, ...withoutDistance } = good;
    expect(refusalOf(() => parsePredictRequest({ instances: [withoutDistance] }, validator, 10))).toMatchObject({
      code: 'missing_feature',
      field: 'instances[0].distance',
      message: "instance 0: missing feature 'distance' (numeric: a number or null)",
    });
  });

  it("names extra features and lists the model's features", () => {
    expect(refusalOf(() => parsePredictRequest({ instance: { ...good, carrier: 'AA', seats: 3 } }, validator, 10))).toMatchObject({
      code: 'unknown_feature',
      field: 'instance.carrier',
      message: "instance: unknown features 'carrier', 'seats'; the model's features are: dep_hour, distance, origin",
    });
  });

  it('lists several problems in one message, with the first one\'s field', () => {
    expect(refusalOf(() => parsePredictRequest({ instances: [{ ...good, distance: 'x' }, { ...good, dep_hour: true }] }, validator, 10))).toMatchObject({
      field: 'instances[0].distance',
      message: "instance 0: feature 'distance' must be a number or null, got string 'x'; instance 1: feature 'dep_hour' must be a number or null, got boolean true",
    });
    const many = Array.from({ length: 8 }, () => ({ ...good, distance: 'x' }));
    expect(refusal({ instances: many })).toMatch(/\(and more problems\)$/);
  });

  it('refuses an empty batch, a batch over the limit, both forms at once, or neither', () => {
    expect(refusal({ instances: [] })).toBe("'instances' is empty; send at least one instance");
    expect(refusalOf(() => parsePredictRequest({ instances: Array(11).fill(good) }, validator, 10))).toMatchObject({
      code: 'too_many_instances',
      field: 'instances',
      message: "'instances' has 11 items; at most 10 are accepted per request",
    });
    expect(refusal({ instance: good, instances: [good] })).toBe("send either 'instance' or 'instances', not both");
    expect(refusalOf(() => parsePredictRequest({ requestId: 'x' }, validator, 10))).toMatchObject({
      code: 'missing_field',
      field: 'instance',
      message: "request body needs 'instance' (one object of features) or 'instances' (an array of them)",
    });
  });

  it('refuses bodies that are not objects, unknown top-level fields and bad ids, naming the field', () => {
    expect(refusal([good])).toBe("request body must be a JSON object with 'instance' or 'instances', got array");
    expect(refusalOf(() => parsePredictRequest({ instance: good, model: 'x' }, validator, 10))).toMatchObject({
      code: 'unknown_field',
      field: 'model',
      message: "unknown field 'model' in the request body; accepted: instance or instances, requestId, routingKey",
    });
    const rule = "'requestId' must be a non-empty string of at most 200 characters, without control characters or unpaired surrogates";
    expect(refusalOf(() => parsePredictRequest({ instance: good, requestId: 7 }, validator, 10))).toMatchObject({ code: 'invalid_field', field: 'requestId', message: `${rule}; got number 7` });
    expect(refusal({ instance: good, routingKey: 'k'.repeat(201) })).toMatch(/^'routingKey' must be .*; got 201 characters$/);
    expect(refusal({ instance: good, requestId: 'a\u0000b' })).toBe(`${rule}; got 'a\\u0000b', which contains the control character U+0000`);
    expect(refusal({ instance: good, requestId: 'a\ud800' })).toBe(`${rule}; got a string with an unpaired surrogate U+D800`);
    expect(refusal({ instance: good, requestId: '' })).toBe(`${rule}; got an empty string`);
    expect(refusal({ instances: { a: 1 } })).toBe("'instances' must be an array of objects of feature values, got object");
    expect(refusalOf(() => parsePredictRequest({ instances: [3] }, validator, 10))).toMatchObject({ field: 'instances[0]', message: 'instance 0: must be an object of feature values, got number' });
  });
});

describe('v2 infer request validation', () => {
  const inputs = [
    { name: 'dep_hour', shape: [2, 1], datatype: 'FP32', data: [7.5, 8] },
    { name: 'distance', shape: [2], datatype: 'INT64', data: [[950], [120]] },
    { name: 'origin', shape: [2, 1], datatype: 'BYTES', data: ['SFO', null] },
  ];

  it('turns input tensors into instances, with ids <id>/<row> and the routing key from parameters', () => {
    const parsed = parseInferRequest({ id: 'q', inputs, parameters: { routing_key: 'u1' } }, validator, 10);
    expect(parsed.instances).toEqual([
      { dep_hour: 7.5, distance: 950, origin: 'SFO' },
      { dep_hour: 8, distance: 120, origin: null },
    ]);
    expect(parsed.itemIds).toEqual(['q/0', 'q/1']);
    expect(parsed.routingKey).toBe('u1');
    expect(parsed.idField).toBe('id');
  });

  it('logs a one-row request under its id', () => {
    const one = inputs.map((i) => ({ ...i, shape: [1, 1], data: i.data.slice(0, 1) }));
    expect(parseInferRequest({ id: 'q', inputs: one }, validator, 10).itemIds).toEqual(['q']);
  });

  it('names missing, unknown and duplicated inputs', () => {
    expect(refusalOf(() => parseInferRequest({ inputs: inputs.slice(1) }, validator, 10))).toMatchObject({
      code: 'missing_input',
      field: 'inputs',
      message: "missing input 'dep_hour' (FP32, shape [-1, 1])",
    });
    expect(refusalOf(() => parseInferRequest({ inputs: [...inputs, { ...inputs[0]!, name: 'carrier' }] }, validator, 10))).toMatchObject({
      code: 'unknown_input',
      field: 'inputs[3].name',
      message: "unknown input 'carrier'; the model's inputs are: dep_hour, distance, origin",
    });
    expect(inferRefusal({ inputs: [...inputs, inputs[0]] })).toBe("input 'dep_hour' appears more than once");
  });

  it('names datatype, shape, length and value problems with the field', () => {
    const with0 = (patch: object) => ({ inputs: [{ ...inputs[0]!, ...patch }, ...inputs.slice(1)] });
    expect(refusalOf(() => parseInferRequest(with0({ datatype: 'BYTES' }), validator, 10))).toMatchObject({
      field: 'inputs[0].datatype',
      message: "input 'dep_hour' has datatype BYTES; the numeric feature takes FP32 (or another numeric type)",
    });
    expect(inferRefusal(with0({ data: [7.5] }))).toBe("input 'dep_hour' has 1 values for shape [2, 1]");
    expect(inferRefusal(with0({ shape: [2, 2], data: [1, 2, 3, 4] }))).toBe("input 'dep_hour' has shape [2, 2]; expected [2] or [2, 1]");
    expect(refusalOf(() => parseInferRequest(with0({ data: [7.5, '8'] }), validator, 10))).toEqual({
      status: 400,
      code: 'invalid_feature',
      field: 'inputs[0].data[1]',
      message: "input 'dep_hour' row 1 must be a number or null, got string '8'",
    });
    expect(inferRefusal({ inputs: [inputs[0]!, inputs[1]!, { ...inputs[2]!, data: ['SFO', 'a\u0000'] }] })).toBe(
      "input 'origin' row 1 contains U+0000 (NUL), which Postgres cannot store in text",
    );
    expect(inferRefusal(with0({ shape: [3, 1], data: [1, 2, 3] }))).toBe("inputs disagree on the number of rows: 'dep_hour' has 3, 'distance' has 2, 'origin' has 2");
  });

  it('holds values to the model input types, as v1 does', () => {
    const float32 = createInstanceValidator(features, [[{ name: 'dep_hour', type: 'float32', rank: 2 }]]);
    const with0 = { inputs: [{ ...inputs[0]!, data: [7.5, 1e39] }, ...inputs.slice(1)] };
    expect(refusalOf(() => parseInferRequest(with0, float32, 10))).toMatchObject({
      field: 'inputs[0].data[1]',
      message: "input 'dep_hour' row 1 is 1e+39, beyond the float32 range of the model's input (|x| ≤ 3.4028234663852886e+38)",
    });
  });

  it('refuses too many rows, unknown outputs and malformed bodies', () => {
    const many = inputs.map((i) => ({ ...i, shape: [11, 1], data: Array(11).fill(i.data[0]) }));
    expect(refusalOf(() => parseInferRequest({ inputs: many }, validator, 10))).toMatchObject({
      code: 'too_many_instances',
      message: 'the inputs have 11 rows; at most 10 are accepted per request',
    });
    expect(refusalOf(() => parseInferRequest({ inputs, outputs: [{ name: 'label' }] }, validator, 10))).toMatchObject({
      code: 'unknown_output',
      field: 'outputs[0].name',
      message: "unknown output 'label'; this model has: probabilities",
    });
    expect(inferRefusal({ inputs: [] })).toBe("'inputs' is empty; send one tensor per feature");
    expect(refusalOf(() => parseInferRequest({ inputs: [{ name: 'dep_hour', datatype: 'FP32', data: [1] }] }, validator, 10))).toMatchObject({
      code: 'invalid_input',
      field: 'inputs[0].shape',
      message: 'inputs[0].shape must be [rows] or [rows, 1] (non-negative whole numbers), got nothing',
    });
    expect(refusalOf(() => parseInferRequest({ inputs, parameters: { routing_key: 5 } }, validator, 10))).toMatchObject({ field: 'parameters.routing_key' });
    expect(refusalOf(() => parseInferRequest({ inputs, id: '\n' }, validator, 10))).toMatchObject({ field: 'id' });
  });
});

describe('feedback request validation', () => {
  it('takes a request id and a label 0 or 1', () => {
    expect(parseFeedbackRequest({ requestId: 'r/1', label: 1 })).toEqual({ requestId: 'r/1', label: 1 });
  });

  it('names the field at fault', () => {
    expect(refusalOf(() => parseFeedbackRequest({ requestId: 'r', label: 2 }))).toEqual({ status: 400, code: 'invalid_field', field: 'label', message: "'label' must be 0 or 1, got number 2" });
    expect(refusalOf(() => parseFeedbackRequest({ requestId: 'r', label: '1' }))).toMatchObject({ field: 'label', message: "'label' must be 0 or 1, got string '1'" });
    expect(refusalOf(() => parseFeedbackRequest({ requestId: 'r' }))).toMatchObject({ code: 'missing_field', field: 'label' });
    expect(refusalOf(() => parseFeedbackRequest({ label: 0 }))).toMatchObject({ code: 'missing_field', field: 'requestId' });
    expect(refusalOf(() => parseFeedbackRequest({ requestId: 'a\u0000', label: 0 }))).toMatchObject({ code: 'invalid_field', field: 'requestId' });
    expect(refusalOf(() => parseFeedbackRequest({ requestId: 'r', label: 0, extra: 1 }))).toMatchObject({ code: 'unknown_field', field: 'extra' });
    expect(refusalOf(() => parseFeedbackRequest('r'))).toMatchObject({ code: 'invalid_body', message: 'request body must be a JSON object { requestId, label }, got string' });
  });
});
