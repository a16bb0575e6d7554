/**
 * The body of `POST /v1/models/:model/predict`:
 * `{ "instance": {...} }` (one) or `{ "instances": [{...}, ...] }` (a batch), with an optional
 * `requestId` (a UUID is generated otherwise) and `routingKey` (canary stickiness).
 * Batch item i is logged, and takes feedback, under `${requestId}/${i}`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { InstanceValidator } from './instance-validation';
import { jsonTypeName } from './instance-validation';
import type { FeatureRecord } from './model-session';
import { GatewayRequestError } from './request-error';

/** Request ids and routing keys are stored and indexed: bounded length, printable. */
export const RequestId = z.string().min(1).max(200).regex(/^\P{Cc}+$/u, 'must not contain control characters');
export const RoutingKey = z.string().min(1).max(200).regex(/^\P{Cc}+$/u, 'must not contain control characters');
/** Names what RequestId and RoutingKey accept, for refusals. */
export const ID_RULE = 'a non-empty string of at most 200 characters, without control characters';

const PredictEnvelope = z.strictObject({
  instance: z.unknown().optional(),
  instances: z.array(z.unknown()).optional(),
  requestId: RequestId.optional(),
  routingKey: RoutingKey.optional(),
});

/** A validated request: rows to score and the id each row is logged under. */
export interface ParsedPrediction {
  readonly instances: FeatureRecord[];
  readonly requestId: string;
  /** One per instance. */
  readonly itemIds: string[];
  readonly routingKey: string | null;
}

export function parsePredictRequest(body: unknown, validator: InstanceValidator, maxInstances: number): ParsedPrediction {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayRequestError(400, `request body must be a JSON object with 'instance' or 'instances', got ${jsonTypeName(body)}`);
  }
  const envelope = PredictEnvelope.safeParse(body);
  if (!envelope.success) throw new GatewayRequestError(400, describeEnvelopeIssue(envelope.error.issues[0]!));
  const { instance, instances, requestId = randomUUID(), routingKey = null } = envelope.data;
  if (instance !== undefined && instances !== undefined) throw new GatewayRequestError(400, "send either 'instance' or 'instances', not both");
  if (instances !== undefined) {
    if (instances.length === 0) throw new GatewayRequestError(400, "'instances' is empty; send at least one instance");
    if (instances.length > maxInstances) {
      throw new GatewayRequestError(400, `'instances' has ${instances.length} items; at most ${maxInstances} are accepted per request`);
    }
    const rows = validator.parse(instances, (i) => `instance ${i}`);
    return { instances: rows, requestId, itemIds: rows.map((_, i) => `${requestId}/${i}`), routingKey };
  }
  if (instance === undefined) throw new GatewayRequestError(400, "request body needs 'instance' (one object of features) or 'instances' (an array of them)");
  return { instances: validator.parse([instance], () => 'instance'), requestId, itemIds: [requestId], routingKey };
}

function describeEnvelopeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} in the request body; accepted: instance or instances, requestId, routingKey`;
  }
  const field = String(issue.path[0]);
  if (field === 'instances') return "'instances' must be an array of objects of feature values";
  if (field === 'requestId' || field === 'routingKey') return `'${field}' must be ${ID_RULE}`;
  return `${field}: ${issue.message}`;
}
