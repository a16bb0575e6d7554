/**
 * The gateway's API keys file (RETRAIN_GATEWAY_API_KEYS_FILE): which keys may call the predict,
 * infer and feedback endpoints, for which models and scopes. It holds sha256 hashes, never keys:
 *
 * ```json
 * { "keys": [{ "name": "traffic", "sha256": "<64 hex>", "models": ["flight-delay"], "scopes": ["predict", "feedback"] }] }
 * ```
 *
 * `models` lists model names, or `"*"` for every model. A key is `rtk_` and 43 base64url
 * characters (32 random bytes, 256 bits), made by `retrain gateway-key create`, which prints it
 * once with its entry. Unsalted sha256 is enough for keys of 256 random bits (no dictionary to
 * try, no preimage to find) and is cheap enough to compute on every request (about 1 µs);
 * scrypt is for passwords people choose.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const API_KEY_SCOPES = ['predict', 'feedback'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Every model. */
export const ALL_MODELS = '*';

export const GatewayApiKeyEntry = z.strictObject({
  /** Names the key in messages and logs (the key itself is never logged). */
  name: z.string().min(1).max(100),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the 64 lowercase hex digits of the key\'s sha256'),
  models: z.array(z.string().min(1)).min(1, 'must list at least one model (or "*")'),
  scopes: z.array(z.enum(API_KEY_SCOPES, { error: `must be ${API_KEY_SCOPES.join(' or ')}` })).min(1, 'must list at least one scope'),
});
export type GatewayApiKeyEntry = z.infer<typeof GatewayApiKeyEntry>;

export const GatewayApiKeysFile = z
  .strictObject({ keys: z.array(GatewayApiKeyEntry) })
  .superRefine((file, ctx) => {
    const names = new Set<string>();
    const hashes = new Set<string>();
    file.keys.forEach((key, i) => {
      if (names.has(key.name)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'name'], message: `repeats the name '${key.name}'` });
      if (hashes.has(key.sha256)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'sha256'], message: 'repeats the hash of an earlier key' });
      names.add(key.name);
      hashes.add(key.sha256);
    });
  });
export type GatewayApiKeysFile = z.infer<typeof GatewayApiKeysFile>;

const KEY_PREFIX = 'rtk_';

/** A new random API key. */
export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The hash stored for a key: sha256 of its text, lowercase hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Parses the text of a keys file; throws naming the file, the entry and the problem. */
export function parseGatewayApiKeys(text: string, file: string): GatewayApiKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // The cause (JSON.parse's message) is shown after it by the CLI's error chain.
    throw new Error(`API keys file ${file} is not valid JSON`, { cause: err });
  }
  const parsed = GatewayApiKeysFile.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'the file'} ${issue.message}`);
    throw new Error(`API keys file ${file}: ${problems.join('; ')} (expected { "keys": [{ "name", "sha256", "models", "scopes" }] })`);
  }
  return parsed.data.keys;
}

/** Reads and parses a keys file. */
export function loadGatewayApiKeys(file: string): GatewayApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the API keys file ${file} (RETRAIN_GATEWAY_API_KEYS_FILE)`, { cause: err });
  }
  return parseGatewayApiKeys(text, file);
}
