/**
 * The body of `POST /v1/models/:model/feedback`: `{ "requestId": "...", "label": 0 | 1 }`, the
 * ground truth of one served request id (a batch item's id is `<requestId>/<i>`).
 */
import { describeValue, jsonTypeName } from './instance-validation';
import { idMessage, idProblem } from './request-ids';
import { GatewayRequestError } from './request-error';
import { quoted } from './storable-text';

export interface ParsedFeedback {
  readonly requestId: string;
  readonly label: 0 | 1;
}

const FIELDS = new Set(['requestId', 'label']);

export function parseFeedbackRequest(body: unknown): ParsedFeedback {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayRequestError(400, 'invalid_body', `request body must be a JSON object { requestId, label }, got ${jsonTypeName(body)}`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) {
    throw new GatewayRequestError(400, 'unknown_field', `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => quoted(k)).join(', ')}; accepted: requestId, label`, {
      field: unknown[0],
    });
  }
  const { requestId, label } = fields;
  if (requestId === undefined) throw new GatewayRequestError(400, 'missing_field', "missing 'requestId': the id of the served request this label is for", { field: 'requestId' });
  const problem = idProblem(requestId);
  if (problem) throw new GatewayRequestError(400, 'invalid_field', idMessage('requestId', problem), { field: 'requestId' });
  if (label === undefined) throw new GatewayRequestError(400, 'missing_field', "missing 'label' (0 or 1)", { field: 'label' });
  if (label !== 0 && label !== 1) throw new GatewayRequestError(400, 'invalid_field', `'label' must be 0 or 1, got ${describeValue(label)}`, { field: 'label' });
  return { requestId: requestId as string, label };
}
