/**
 * Open Inference Protocol (KServe v2) request bodies for `POST /v2/models/:name/infer`:
 * one input tensor per feature, `shape` [n] or [n, 1], `data` row-major (flat, or one nested
 * level), numeric features as FP32, FP64 or an integer type, categorical ones as BYTES (strings);
 * `parameters.routing_key` makes canary routing sticky. Rows become instances like the v1 API's,
 * and their values follow the same rules (instance-validation.ts). Problems name the input, the
 * row and the value, with the path of the field at fault (`inputs[1].data[3]`).
 */
import { randomUUID } from 'node:crypto';
import type { FeatureSpec } from '../lib/spec/model-spec';
import { describeValue, jsonTypeName, type InstanceValidator } from './instance-validation';
import type { FeatureRecord, FeatureValue } from './model-session';
import { optionalId, type ParsedPrediction } from './predict-request';
import { GatewayRequestError, refusal, type RequestProblem } from './request-error';
import { quoted } from './storable-text';

const NUMERIC_DATATYPES = new Set(['FP16', 'FP32', 'FP64', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** The datatype the metadata endpoint announces for a feature. */
export function datatypeOf(feature: FeatureSpec): 'FP32' | 'BYTES' {
  return feature.kind === 'numeric' ? 'FP32' : 'BYTES';
}

/** The only output: P(class 0), P(class 1) per row. */
export const PROBABILITIES_TENSOR = 'probabilities';

interface InferInput {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  readonly data: readonly unknown[];
}

/**
 * Parses an infer request against the model's features. Row i is logged under `${id}/${i}`,
 * except a single-row request, which is logged under `id` itself.
 */
export function parseInferRequest(body: unknown, validator: InstanceValidator, maxInstances: number): ParsedPrediction {
  const { features } = validator;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayRequestError(400, 'invalid_body', `request body must be a JSON object with 'inputs', got ${jsonTypeName(body)}`);
  }
  const request = body as Record<string, unknown>;
  const id = optionalId(request, 'id') ?? randomUUID();
  const routingKey = routingKeyOf(request.parameters);
  checkOutputs(request.outputs);
  const inputs = readInputs(request.inputs);

  const problems: RequestProblem[] = [];
  const byName = new Map<string, InferInput>();
  for (const input of inputs) {
    if (byName.has(input.name)) {
      problems.push({ code: 'invalid_input', field: `inputs[${input.index}].name`, message: `input ${quoted(input.name)} appears more than once` });
    }
    byName.set(input.name, input);
  }
  const unknown = inputs.filter((input) => !features.some((f) => f.name === input.name));
  if (unknown.length > 0) {
    problems.push({
      code: 'unknown_input',
      field: `inputs[${unknown[0]!.index}].name`,
      message: `unknown input${unknown.length > 1 ? 's' : ''} ${unknown.map((i) => quoted(i.name)).join(', ')}; the model's inputs are: ${features.map((f) => f.name).join(', ')}`,
    });
  }
  for (const feature of features) {
    if (!byName.has(feature.name)) {
      problems.push({ code: 'missing_input', field: 'inputs', message: `missing input '${feature.name}' (${datatypeOf(feature)}, shape [-1, 1])` });
    }
  }
  if (problems.length > 0) throw refusal(problems);

  const rows = rowCount(features.map((f) => byName.get(f.name)!), maxInstances);
  const columns = new Map<string, readonly FeatureValue[]>();
  for (const feature of features) columns.set(feature.name, column(validator, feature, byName.get(feature.name)!, rows, problems));
  if (problems.length > 0) throw refusal(problems);

  const instances = new Array<FeatureRecord>(rows);
  for (let i = 0; i < rows; i++) {
    const instance: Record<string, FeatureValue> = {};
    for (const feature of features) instance[feature.name] = columns.get(feature.name)![i]!;
    instances[i] = instance;
  }
  const itemIds = rows === 1 ? [id] : instances.map((_, i) => `${id}/${i}`);
  return { instances, requestId: id, itemIds, routingKey, idField: 'id' };
}

function routingKeyOf(parameters: unknown): string | null {
  if (parameters === undefined) return null;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new GatewayRequestError(400, 'invalid_field', `'parameters' must be an object, got ${jsonTypeName(parameters)}`, { field: 'parameters' });
  }
  return optionalId(parameters as Record<string, unknown>, 'routing_key', 'parameters.routing_key') ?? null;
}

function checkOutputs(outputs: unknown): void {
  if (outputs === undefined) return;
  if (!Array.isArray(outputs)) throw new GatewayRequestError(400, 'invalid_field', `'outputs' must be an array, got ${jsonTypeName(outputs)}`, { field: 'outputs' });
  outputs.forEach((output: unknown, i) => {
    const name = typeof output === 'object' && output !== null ? (output as Record<string, unknown>).name : undefined;
    if (typeof name !== 'string') {
      throw new GatewayRequestError(400, 'invalid_field', `outputs[${i}] must be an object with a string 'name'`, { field: `outputs[${i}].name` });
    }
    if (name !== PROBABILITIES_TENSOR) {
      throw new GatewayRequestError(400, 'unknown_output', `unknown output ${quoted(name)}; this model has: ${PROBABILITIES_TENSOR}`, { field: `outputs[${i}].name` });
    }
  });
}

/** The input tensors' envelopes, checked for form (names, shapes, datatypes, data arrays). */
function readInputs(inputs: unknown): InferInput[] {
  if (inputs === undefined) throw new GatewayRequestError(400, 'missing_field', "request body needs 'inputs': one tensor per feature", { field: 'inputs' });
  if (!Array.isArray(inputs)) throw new GatewayRequestError(400, 'invalid_field', `'inputs' must be an array of tensors, got ${jsonTypeName(inputs)}`, { field: 'inputs' });
  if (inputs.length === 0) throw new GatewayRequestError(400, 'invalid_field', "'inputs' is empty; send one tensor per feature", { field: 'inputs' });
  return inputs.map((input: unknown, index) => {
    const at = `inputs[${index}]`;
    const fail = (field: string, message: string) => new GatewayRequestError(400, 'invalid_input', `${at}${field ? `.${field}` : ''} ${message}`, { field: field ? `${at}.${field}` : at });
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw fail('', `must be a tensor object { name, shape, datatype, data }, got ${jsonTypeName(input)}`);
    const { name, shape, datatype, data } = input as Record<string, unknown>;
    if (typeof name !== 'string' || name.length === 0) throw fail('name', `must be a non-empty string, got ${describeValue(name)}`);
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 2 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw fail('shape', `must be [rows] or [rows, 1] (non-negative whole numbers), got ${JSON.stringify(shape) ?? 'nothing'}`);
    }
    if (typeof datatype !== 'string' || datatype.length === 0) throw fail('datatype', `must be a datatype name such as FP32 or BYTES, got ${describeValue(datatype)}`);
    if (!Array.isArray(data)) throw fail('data', `must be an array of values, got ${jsonTypeName(data)}`);
    return { index, name, shape: shape as number[], datatype, data };
  });
}

function rowCount(inputs: readonly InferInput[], maxInstances: number): number {
  const first = inputs[0]!;
  const other = inputs.find((i) => i.shape[0] !== first.shape[0]);
  if (other) {
    throw new GatewayRequestError(400, 'invalid_input', `inputs disagree on the number of rows: ${inputs.map((i) => `'${i.name}' has ${i.shape[0]}`).join(', ')}`, {
      field: `inputs[${other.index}].shape`,
    });
  }
  const rows = first.shape[0]!;
  if (rows === 0) throw new GatewayRequestError(400, 'invalid_input', 'the inputs have 0 rows; send at least one', { field: `inputs[${first.index}].shape` });
  if (rows > maxInstances) {
    throw new GatewayRequestError(400, 'too_many_instances', `the inputs have ${rows} rows; at most ${maxInstances} are accepted per request`, { field: `inputs[${first.index}].shape` });
  }
  return rows;
}

function column(validator: InstanceValidator, feature: FeatureSpec, input: InferInput, rows: number, problems: RequestProblem[]): readonly FeatureValue[] {
  const name = `input '${feature.name}'`;
  const at = `inputs[${input.index}]`;
  const numeric = feature.kind === 'numeric';
  if (numeric ? !NUMERIC_DATATYPES.has(input.datatype) : input.datatype !== 'BYTES') {
    problems.push({
      code: 'invalid_input',
      field: `${at}.datatype`,
      message: `${name} has datatype ${input.datatype}; the ${feature.kind} feature takes ${numeric ? 'FP32 (or another numeric type)' : 'BYTES'}`,
    });
    return [];
  }
  if (input.shape.length === 2 && input.shape[1] !== 1) {
    problems.push({ code: 'invalid_input', field: `${at}.shape`, message: `${name} has shape [${input.shape.join(', ')}]; expected [${rows}] or [${rows}, 1]` });
    return [];
  }
  const data = input.data.some(Array.isArray) ? input.data.flat() : input.data;
  if (data.length !== rows) {
    problems.push({ code: 'invalid_input', field: `${at}.data`, message: `${name} has ${data.length} values for shape [${input.shape.join(', ')}]` });
    return [];
  }
  for (let i = 0; i < data.length; i++) {
    const problem = validator.valueProblem(feature, data[i]);
    if (!problem) continue;
    problems.push({ code: problem.code, field: `${at}.data[${i}]`, message: `${name} row ${i} ${problem.message}` });
    break;
  }
  return data as FeatureValue[];
}
