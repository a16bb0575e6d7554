/**
 * API keys on the predict, infer and feedback endpoints. The keys come from configuration (the
 * file RETRAIN_GATEWAY_API_KEYS_FILE names, lib/config/gateway-api-keys.ts), held in memory as a
 * map from sha256 to what the key may do; a request sends `Authorization: Bearer <key>`, whose
 * sha256 is looked up (one hash per request, about 1 µs; no database). The key is never logged.
 *
 * - no key: 401 missing_api_key (with `WWW-Authenticate: Bearer`);
 * - a key that is not configured, or a malformed header: 401 invalid_api_key;
 * - a key without the endpoint's scope (`predict` for predict and infer, `feedback` for
 *   feedback) or not for the model: 403 forbidden.
 *
 * Checked in the route's onRequest hook, before the body is read: a caller without a valid key
 * learns nothing about the model or its features, and cannot make the gateway parse a body.
 * Open mode (no keys) exists only when configured explicitly (RETRAIN_GATEWAY_AUTH=open).
 */
import type { onRequestHookHandler } from 'fastify';
import { ALL_MODELS, hashApiKey, type ApiKeyScope, type GatewayApiKeyEntry } from '../lib/config/gateway-api-keys';
import { GatewayRequestError } from './request-error';
import { quoted } from './storable-text';

/** How the gateway authenticates: open (explicitly), or the configured keys. */
export type GatewayAuth = { readonly mode: 'open' } | { readonly mode: 'keys'; readonly keys: readonly GatewayApiKeyEntry[] };

interface Grant {
  readonly name: string;
  /** null: every model. */
  readonly models: ReadonlySet<string> | null;
  readonly scopes: ReadonlySet<ApiKeyScope>;
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="retrain-gateway"' };

export class ApiKeyAuthorizer {
  private readonly grants = new Map<string, Grant>();

  constructor(readonly auth: GatewayAuth) {
    if (auth.mode === 'open') return;
    for (const key of auth.keys) {
      this.grants.set(key.sha256, {
        name: key.name,
        models: key.models.includes(ALL_MODELS) ? null : new Set(key.models),
        scopes: new Set(key.scopes),
      });
    }
  }

  get open(): boolean {
    return this.auth.mode === 'open';
  }

  /** Names of the configured keys (for the start-up log; never the keys or their hashes). */
  get keyNames(): string[] {
    return [...this.grants.values()].map((g) => g.name);
  }

  /** Throws the 401 or 403 for a request to `model` needing `scope`; returns the key's name when it may. */
  authorize(header: string | string[] | undefined, model: string, scope: ApiKeyScope): string | null {
    if (this.auth.mode === 'open') return null;
    if (header === undefined || header === '') {
      throw new GatewayRequestError(401, 'missing_api_key', `this endpoint needs an API key with the '${scope}' scope: send 'Authorization: Bearer <key>'`, { headers: CHALLENGE });
    }
    const value = Array.isArray(header) ? header[0]! : header;
    const match = /^Bearer +(\S+) *$/i.exec(value);
    if (!match) {
      throw new GatewayRequestError(401, 'invalid_api_key', "the Authorization header must be 'Bearer <key>'", { headers: CHALLENGE });
    }
    const grant = this.grants.get(hashApiKey(match[1]!));
    if (!grant) throw new GatewayRequestError(401, 'invalid_api_key', 'the API key is not valid (not among the configured keys)', { headers: CHALLENGE });
    if (!grant.scopes.has(scope)) {
      throw new GatewayRequestError(403, 'forbidden', `API key '${grant.name}' has no '${scope}' scope (its scopes: ${[...grant.scopes].join(', ')})`);
    }
    if (grant.models !== null && !grant.models.has(model)) {
      throw new GatewayRequestError(403, 'forbidden', `API key '${grant.name}' is not for model ${quoted(model)} (its models: ${[...grant.models].join(', ')})`);
    }
    return grant.name;
  }
}

/**
 * Route options that check the key in onRequest (before the body is read); none in open mode.
 * `param` names the route parameter holding the model; `onRefused` sees each 401/403 (metrics).
 */
export function apiKeyRouteOptions(
  authorizer: ApiKeyAuthorizer,
  scope: ApiKeyScope,
  param: string,
  onRefused: (err: GatewayRequestError) => void,
): { onRequest?: onRequestHookHandler } {
  if (authorizer.open) return {};
  return {
    onRequest(request, _reply, done) {
      try {
        authorizer.authorize(request.headers.authorization, String((request.params as Record<string, unknown>)[param]), scope);
      } catch (err) {
        onRefused(err as GatewayRequestError);
        done(err as GatewayRequestError);
        return;
      }
      done();
    },
  };
}
