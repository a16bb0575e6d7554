/**
 * Open Inference Protocol (KServe v2) request bodies for `POST /v2/models/:name/infer`:
 * one input tensor per feature, `shape` [n] or [n, 1], `data` row-major (flat, or one nested
 * level), numeric features as FP32, FP64 or an integer type, categorical ones as BYTES (strings);
 * `parameters.routing_key` makes canary routing sticky. Rows become instances like the v1 API's.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FeatureSpec } from '../lib/spec/model-spec';
import { joinProblems, jsonTypeName } from './instance-validation';
import type { FeatureRecord, FeatureValue } from './model-session';
import type { ParsedPrediction } from './predict-request';
import { RequestId, RoutingKey } from './predict-request';
import { GatewayRequestError } from './request-error';

const NUMERIC_DATATYPES = new Set(['FP16', 'FP32', 'FP64', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** The datatype the metadata endpoint announces for a feature. */
export function datatypeOf(feature: FeatureSpec): 'FP32' | 'BYTES' {
  return feature.kind === 'numeric' ? 'FP32' : 'BYTES';
}

/** The only output: P(class 0), P(class 1) per row. */
export const PROBABILITIES_TENSOR = 'probabilities';

const InferInput = z.looseObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()).min(1).max(2),
  datatype: z.string().min(1),
  data: z.array(z.unknown()),
});

const InferRequest = z.looseObject({
  id: RequestId.optional(),
  inputs: z.array(InferInput).min(1),
  parameters: z.looseObject({ routing_key: RoutingKey.optional() }).optional(),
  outputs: z.array(z.looseObject({ name: z.string() })).optional(),
});

/**
 * Parses an infer request against the model's features. Row i is logged under `${id}/${i}`,
 * except a single-row request, which is logged under `id` itself.
 */
export function parseInferRequest(body: unknown, features: readonly FeatureSpec[], maxInstances: number): ParsedPrediction {
  const parsed = InferRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'request body';
    throw new GatewayRequestError(400, `${where}: ${issue.message}`);
  }
  const { inputs, parameters, outputs } = parsed.data;
  const id = parsed.data.id ?? randomUUID();
  for (const output of outputs ?? []) {
    if (output.name !== PROBABILITIES_TENSOR) throw new GatewayRequestError(400, `unknown output '${output.name}'; this model has: ${PROBABILITIES_TENSOR}`);
  }

  const problems: string[] = [];
  const byName = new Map<string, z.infer<typeof InferInput>>();
  for (const input of inputs) {
    if (byName.has(input.name)) problems.push(`input '${input.name}' appears more than once`);
    byName.set(input.name, input);
  }
  const unknown = [...byName.keys()].filter((name) => !features.some((f) => f.name === name));
  if (unknown.length > 0) {
    problems.push(`unknown input${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; the model's inputs are: ${features.map((f) => f.name).join(', ')}`);
  }
  for (const feature of features) {
    if (!byName.has(feature.name)) problems.push(`missing input '${feature.name}' (${datatypeOf(feature)}, shape [-1, 1])`);
  }
  if (problems.length > 0) throw new GatewayRequestError(400, joinProblems(problems));

  const rows = rowCount(features.map((f) => byName.get(f.name)!), maxInstances);
  const columns = new Map<string, FeatureValue[]>();
  for (const feature of features) columns.set(feature.name, column(feature, byName.get(feature.name)!, rows, problems));
  if (problems.length > 0) throw new GatewayRequestError(400, joinProblems(problems));

  const instances = new Array<FeatureRecord>(rows);
  for (let i = 0; i < rows; i++) {
    const instance: Record<string, FeatureValue> = {};
    for (const feature of features) instance[feature.name] = columns.get(feature.name)![i]!;
    instances[i] = instance;
  }
  const itemIds = rows === 1 ? [id] : instances.map((_, i) => `${id}/${i}`);
  return { instances, requestId: id, itemIds, routingKey: parameters?.routing_key ?? null };
}

function rowCount(inputs: readonly z.infer<typeof InferInput>[], maxInstances: number): number {
  const counts = new Set(inputs.map((i) => i.shape[0]!));
  if (counts.size > 1) {
    throw new GatewayRequestError(400, `inputs disagree on the number of rows: ${inputs.map((i) => `'${i.name}' has ${i.shape[0]}`).join(', ')}`);
  }
  const rows = inputs[0]!.shape[0]!;
  if (rows === 0) throw new GatewayRequestError(400, 'the inputs have 0 rows; send at least one');
  if (rows > maxInstances) throw new GatewayRequestError(400, `the inputs have ${rows} rows; at most ${maxInstances} are accepted per request`);
  return rows;
}

function column(feature: FeatureSpec, input: z.infer<typeof InferInput>, rows: number, problems: string[]): FeatureValue[] {
  const name = `input '${feature.name}'`;
  const numeric = feature.kind === 'numeric';
  if (numeric ? !NUMERIC_DATATYPES.has(input.datatype) : input.datatype !== 'BYTES') {
    problems.push(`${name} has datatype ${input.datatype}; the ${feature.kind} feature takes ${numeric ? 'FP32 (or another numeric type)' : 'BYTES'}`);
    return [];
  }
  if (input.shape.length === 2 && input.shape[1] !== 1) {
    problems.push(`${name} has shape [${input.shape.join(', ')}]; expected [${rows}] or [${rows}, 1]`);
    return [];
  }
  const data = input.data.some(Array.isArray) ? input.data.flat() : input.data;
  if (data.length !== rows) {
    problems.push(`${name} has ${data.length} values for shape [${input.shape.join(', ')}]`);
    return [];
  }
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (value === null || (numeric ? typeof value === 'number' && Number.isFinite(value) : typeof value === 'string')) continue;
    problems.push(`${name} row ${i}: must be ${numeric ? 'a number' : 'a string'}, got ${jsonTypeName(value)}`);
    break;
  }
  return data as FeatureValue[];
}
