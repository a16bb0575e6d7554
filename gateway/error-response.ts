/**
 * The one shape of every error the gateway answers, `{ "error": { code, message, field? } }`,
 * for its own refusals (GatewayRequestError) and for fastify's (body too large, bad JSON,
 * unsupported media type, bad URL), rephrased to name the limit or the problem. A 5xx that is not
 * the gateway's own says only "internal error" (the log has the cause).
 */
import type { FastifyError } from 'fastify';
import { GatewayRequestError, type GatewayErrorCode } from './request-error';

export interface ErrorBody {
  error: { code: GatewayErrorCode; message: string; field?: string };
}

export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** HTTP status an error is answered with. */
export function statusOf(err: unknown): number {
  const status = (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

export function errorBody(code: GatewayErrorCode, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

/** The answer to an error thrown while serving a request. */
export function errorAnswer(err: unknown, limits: { maxBodyBytes: number }): ErrorAnswer {
  if (err instanceof GatewayRequestError) {
    const headers: Record<string, string> = { ...err.headers };
    if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
    return { status: err.statusCode, body: errorBody(err.code, err.message, err.field), headers };
  }
  const status = statusOf(err);
  const [code, message] = describeFrameworkError(err as FastifyError, status, limits);
  return { status, body: errorBody(code, message), headers: {} };
}

function describeFrameworkError(err: FastifyError, status: number, limits: { maxBodyBytes: number }): [GatewayErrorCode, string] {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return ['body_too_large', `request body is larger than the limit of ${limits.maxBodyBytes} bytes`];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return ['unsupported_media_type', 'unsupported content type; send application/json'];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return ['invalid_json', 'request body is empty; send a JSON object'];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return ['invalid_json', 'request body is not valid JSON (or has a __proto__ or constructor.prototype key, which is refused)'];
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return ['invalid_body', 'request body size does not match its Content-Length header'];
    case 'FST_ERR_BAD_URL':
      return ['invalid_url', `the URL is not valid (${err.message})`];
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return ['invalid_url', `a path segment of the URL is too long (${err.message})`];
    default:
      if (err instanceof SyntaxError && status === 400) return ['invalid_json', `request body is not valid JSON: ${err.message}`];
      if (status === 404) return ['route_not_found', err.message];
      return status >= 500 ? ['internal_error', 'internal error'] : ['invalid_body', err.message];
  }
}
