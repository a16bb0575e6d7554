/**
 * A request the gateway refuses or cannot serve: the HTTP status, a stable machine-readable
 * code, a message that names the problem and, when one field is at fault, its path in the
 * request body (e.g. `instances[3].distance`). Every error the gateway answers, its own and
 * fastify's, is sent in one shape (see error-response.ts):
 * `{ "error": { "code": "invalid_feature", "message": "...", "field": "instances[0].distance" } }`.
 * docs/gateway.md lists the codes.
 */

/** Every code an error answer can carry, by status. */
export type GatewayErrorCode =
  // 400, 408, 431: the HTTP request itself
  | 'invalid_http'
  | 'request_timeout'
  | 'headers_too_large'
  // 400: the URL or the body
  | 'invalid_url'
  | 'invalid_json'
  | 'invalid_body'
  | 'unknown_field'
  | 'missing_field'
  | 'invalid_field'
  | 'too_many_instances'
  // 400: the features of an instance, or the tensors of an infer request
  | 'invalid_feature'
  | 'missing_feature'
  | 'unknown_feature'
  | 'invalid_input'
  | 'missing_input'
  | 'unknown_input'
  | 'unknown_output'
  // 401, 403: API keys
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'invalid_webhook_secret'
  | 'forbidden'
  // 404, 405: what was asked for
  | 'route_not_found'
  | 'method_not_allowed'
  | 'model_not_found'
  | 'request_not_found'
  | 'report_not_found'
  // 409: once per request id
  | 'request_id_conflict'
  | 'feedback_conflict'
  // 413, 415
  | 'body_too_large'
  | 'unsupported_media_type'
  // 500, 503
  | 'scoring_failed'
  | 'report_corrupt'
  | 'report_missing'
  | 'report_too_large'
  | 'storage_unavailable'
  | 'internal_error'
  | 'model_unavailable'
  | 'overloaded'
  | 'database_unavailable'
  | 'temporal_unavailable'
  | 'shutting_down';

export interface GatewayRequestErrorOptions {
  /** Path of the field at fault in the request body. */
  field?: string;
  /** Seconds a client should wait before trying again (sent as Retry-After). */
  retryAfterSeconds?: number;
  /** Extra response headers (e.g. WWW-Authenticate, Allow). */
  headers?: Readonly<Record<string, string>>;
}

export class GatewayRequestError extends Error {
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly statusCode: number,
    readonly code: GatewayErrorCode,
    message: string,
    options: GatewayRequestErrorOptions = {},
  ) {
    super(message);
    this.name = 'GatewayRequestError';
    this.field = options.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
  }
}

/** One problem found while validating a request; several may be reported in one error. */
export interface RequestProblem {
  readonly code: GatewayErrorCode;
  readonly field: string;
  readonly message: string;
}

/** Issues listed in one error message at most; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 5;

/** A 400 for the problems found: the first one's code and field, every message (up to MAX_LISTED_PROBLEMS) joined. */
export function refusal(problems: readonly RequestProblem[]): GatewayRequestError {
  const first = problems[0]!;
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => p.message).join('; ');
  const message = problems.length > MAX_LISTED_PROBLEMS ? `${listed} (and more problems)` : listed;
  return new GatewayRequestError(400, first.code, message, { field: first.field });
}
