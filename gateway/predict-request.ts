/**
 * The body of `POST /v1/models/:model/predict`:
 * `{ "instance": {...} }` (one) or `{ "instances": [{...}, ...] }` (a batch), with an optional
 * `requestId` (a UUID is generated otherwise) and `routingKey` (canary stickiness).
 * Batch item i is logged, and takes feedback, under `${requestId}/${i}`.
 */
import { randomUUID } from 'node:crypto';
import type { InstanceValidator } from './instance-validation';
import { jsonTypeName } from './instance-validation';
import type { FeatureRecord } from './model-session';
import { idMessage, idProblem } from './request-ids';
import { GatewayRequestError } from './request-error';
import { quoted } from './storable-text';

/** A validated request: rows to score and the id each row is logged under. */
export interface ParsedPrediction {
  readonly instances: FeatureRecord[];
  readonly requestId: string;
  /** One per instance: the ids the rows are logged and take feedback under. */
  readonly itemIds: string[];
  readonly routingKey: string | null;
  /** The body field that holds the request id ('requestId' in v1, 'id' in v2), for refusals. */
  readonly idField: string;
}

const FIELDS = new Set(['instance', 'instances', 'requestId', 'routingKey']);

export function parsePredictRequest(body: unknown, validator: InstanceValidator, maxInstances: number): ParsedPrediction {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayRequestError(400, 'invalid_body', `request body must be a JSON object with 'instance' or 'instances', got ${jsonTypeName(body)}`);
  }
  const envelope = body as Record<string, unknown>;
  const unknown = Object.keys(envelope).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) {
    throw new GatewayRequestError(
      400,
      'unknown_field',
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => quoted(k)).join(', ')} in the request body; accepted: instance or instances, requestId, routingKey`,
      { field: unknown[0] },
    );
  }
  const requestId = optionalId(envelope, 'requestId') ?? randomUUID();
  const routingKey = optionalId(envelope, 'routingKey') ?? null;
  const { instance, instances } = envelope;
  if (instance !== undefined && instances !== undefined) {
    throw new GatewayRequestError(400, 'invalid_body', "send either 'instance' or 'instances', not both", { field: 'instances' });
  }
  if (instances !== undefined) {
    if (!Array.isArray(instances)) {
      throw new GatewayRequestError(400, 'invalid_field', `'instances' must be an array of objects of feature values, got ${jsonTypeName(instances)}`, { field: 'instances' });
    }
    if (instances.length === 0) throw new GatewayRequestError(400, 'invalid_field', "'instances' is empty; send at least one instance", { field: 'instances' });
    if (instances.length > maxInstances) {
      throw new GatewayRequestError(400, 'too_many_instances', `'instances' has ${instances.length} items; at most ${maxInstances} are accepted per request`, { field: 'instances' });
    }
    const rows = validator.parse(instances, (i) => ({ label: `instance ${i}`, path: `instances[${i}]` }));
    return { instances: rows, requestId, itemIds: rows.map((_, i) => `${requestId}/${i}`), routingKey, idField: 'requestId' };
  }
  if (instance === undefined) {
    throw new GatewayRequestError(400, 'missing_field', "request body needs 'instance' (one object of features) or 'instances' (an array of them)", { field: 'instance' });
  }
  return { instances: validator.parse([instance], () => ({ label: 'instance', path: 'instance' })), requestId, itemIds: [requestId], routingKey, idField: 'requestId' };
}

/** An optional id field: undefined when absent, the value when valid, a 400 naming the field otherwise. */
export function optionalId(body: Readonly<Record<string, unknown>>, field: string, path = field): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  const problem = idProblem(value);
  if (problem) throw new GatewayRequestError(400, 'invalid_field', idMessage(path, problem), { field: path });
  return value as string;
}
