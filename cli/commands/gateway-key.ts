import { readFile, writeFile } from 'node:fs/promises';
import { ALL_MODELS, API_KEY_SCOPES, generateApiKey, hashApiKey, parseGatewayApiKeys, type ApiKeyScope, type GatewayApiKeyEntry } from '../../lib/config/gateway-api-keys';

export interface GatewayKeyCreateOptions {
  /** Model names, or '*'. */
  models: string[];
  scopes: string[];
  name?: string;
  /** A keys file to add the entry to (created when missing). */
  keysFile?: string;
}

/**
 * `retrain gateway-key create`: a new API key for the gateway, printed once with the entry the
 * keys file (RETRAIN_GATEWAY_API_KEYS_FILE) holds for it, its sha256; with `--keys-file`, the
 * entry is added to that file. The key itself is stored nowhere: whoever runs this hands it to
 * the client and keeps only the entry.
 */
export async function gatewayKeyCreateCommand(options: GatewayKeyCreateOptions): Promise<void> {
  const models = [...new Set(options.models.flatMap(splitList))];
  const scopes = [...new Set(options.scopes.flatMap(splitList))];
  if (models.length === 0) throw new Error("--model needs at least one model name, or '*' for every model");
  for (const model of models) {
    if (model !== ALL_MODELS && !/^[a-z][a-z0-9-]*$/.test(model)) throw new Error(`--model '${model}' is not a model name (kebab-case) or '*'`);
  }
  for (const scope of scopes) {
    if (!(API_KEY_SCOPES as readonly string[]).includes(scope)) throw new Error(`--scope '${scope}' is not a scope; the scopes are: ${API_KEY_SCOPES.join(', ')}`);
  }
  if (scopes.length === 0) throw new Error(`--scope needs at least one of: ${API_KEY_SCOPES.join(', ')}`);
  const key = generateApiKey();
  const sha256 = hashApiKey(key);
  const entry: GatewayApiKeyEntry = { name: options.name ?? `key-${sha256.slice(0, 8)}`, sha256, models, scopes: scopes as ApiKeyScope[] };
  const lines = [
    `API key (shown once; give it to the client, send it as 'Authorization: Bearer <key>'):`,
    `  ${key}`,
    `Entry for the gateway's keys file (RETRAIN_GATEWAY_API_KEYS_FILE, under "keys"):`,
    `  ${JSON.stringify(entry)}`,
  ];
  if (options.keysFile) {
    await addToKeysFile(options.keysFile, entry);
    lines.push(`Added to ${options.keysFile}; a running gateway reads it when it starts.`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function addToKeysFile(file: string, entry: GatewayApiKeyEntry): Promise<void> {
  let keys: GatewayApiKeyEntry[] = [];
  try {
    keys = parseGatewayApiKeys(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (keys.some((k) => k.name === entry.name)) throw new Error(`${file} already has a key named '${entry.name}'; choose another --name`);
  const text = `${JSON.stringify({ keys: [...keys, entry] }, null, 2)}\n`;
  parseGatewayApiKeys(text, file);
  await writeFile(file, text, { mode: 0o600 });
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}
