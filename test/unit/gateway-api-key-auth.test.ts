import { describe, expect, it } from 'vitest';
import { ApiKeyAuthorizer } from '../../gateway/api-key-auth';
import { generateApiKey, hashApiKey, parseGatewayApiKeys } from '../../lib/config/gateway-api-keys';

const predictKey = generateApiKey();
const bothKey = generateApiKey();
const authorizer = new ApiKeyAuthorizer({
  mode: 'keys',
  keys: [
    { name: 'flight-predict', sha256: hashApiKey(predictKey), models: ['flight-delay'], scopes: ['predict'] },
    { name: 'everything', sha256: hashApiKey(bothKey), models: ['*'], scopes: ['predict', 'feedback'] },
  ],
});

function refusal(header: string | undefined, model: string, scope: 'predict' | 'feedback') {
  try {
    authorizer.authorize(header, model, scope);
  } catch (err) {
    const e = err as { statusCode: number; code: string; message: string; headers?: Record<string, string> };
    return { status: e.statusCode, code: e.code, message: e.message, challenge: e.headers?.['www-authenticate'] ?? null };
  }
  throw new Error('authorized');
}

describe('API key authorization', () => {
  it('makes keys of rtk_ and 43 base64url characters, hashed by sha256', () => {
    expect(predictKey).toMatch(/^rtk_[A-Za-z0-9_-]{43}$/);
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('lets a key with the scope and the model through, and names it', () => {
    expect(authorizer.authorize(`Bearer ${predictKey}`, 'flight-delay', 'predict')).toBe('flight-predict');
    expect(authorizer.authorize(`bearer ${bothKey}`, 'any-model', 'feedback')).toBe('everything');
  });

  it('answers 401 without a key or with an unknown or malformed one, with a challenge', () => {
    expect(refusal(undefined, 'flight-delay', 'predict')).toMatchObject({ status: 401, code: 'missing_api_key', challenge: expect.stringMatching(/^Bearer/) });
    expect(refusal(`Bearer ${generateApiKey()}`, 'flight-delay', 'predict')).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(refusal(predictKey, 'flight-delay', 'predict')).toMatchObject({ status: 401, code: 'invalid_api_key', message: "the Authorization header must be 'Bearer <key>'" });
  });

  it('answers 403 for a key without the scope or not for the model, never echoing the key', () => {
    const scope = refusal(`Bearer ${predictKey}`, 'flight-delay', 'feedback');
    expect(scope).toMatchObject({ status: 403, code: 'forbidden', message: "API key 'flight-predict' has no 'feedback' scope (its scopes: predict)" });
    const model = refusal(`Bearer ${predictKey}`, 'other', 'predict');
    expect(model).toMatchObject({ status: 403, code: 'forbidden', message: "API key 'flight-predict' is not for model 'other' (its models: flight-delay)" });
    expect(JSON.stringify([scope, model])).not.toContain(predictKey);
  });

  it('lets everything through in open mode', () => {
    expect(new ApiKeyAuthorizer({ mode: 'open' }).authorize(undefined, 'm', 'feedback')).toBeNull();
  });

  it('refuses keys files with bad entries, naming the entry and the field', () => {
    const entry = { name: 'a', sha256: hashApiKey('x'), models: ['m'], scopes: ['predict'] };
    expect(parseGatewayApiKeys(JSON.stringify({ keys: [entry] }), 'keys.json')).toEqual([entry]);
    expect(() => parseGatewayApiKeys('{', 'keys.json')).toThrow(/^API keys file keys.json is not valid JSON/);
    expect(() => parseGatewayApiKeys(JSON.stringify({ keys: [{ ...entry, scopes: ['admin'] }] }), 'keys.json')).toThrow(/keys\.0\.scopes\.0 must be predict or feedback/);
    expect(() => parseGatewayApiKeys(JSON.stringify({ keys: [{ ...entry, sha256: 'secret' }] }), 'keys.json')).toThrow(/keys\.0\.sha256 must be the 64 lowercase hex digits/);
    expect(() => parseGatewayApiKeys(JSON.stringify({ keys: [entry, { ...entry, sha256: hashApiKey('y') }] }), 'keys.json')).toThrow(/keys\.1\.name repeats the name 'a'/);
    expect(() => parseGatewayApiKeys(JSON.stringify({ keys: [{ ...entry, key: 'rtk_x' }] }), 'keys.json')).toThrow(/Unrecognized key/);
  });
});
