import { describe, expect, it } from 'vitest';
import { EnvironmentError, parseEnvironment, reportsBaseUrlFor, RETRAIN_ENVIRONMENT_VARIABLES } from '../../lib/config/environment';

const context = { cwd: '/work/project', homeDir: '/home/ada' };
const parse = (env: Record<string, string | undefined>) => parseEnvironment(env, context);
const problemsOf = (env: Record<string, string | undefined>): readonly string[] => {
  try {
    parse(env);
  } catch (err) {
    if (err instanceof EnvironmentError) return err.problems;
    throw err;
  }
  throw new Error('expected an EnvironmentError');
};

describe('parseEnvironment', () => {
  it('starts every service locally when nothing is set', () => {
    const env = parse({});
    expect(env).toMatchObject({
      dataDir: '/work/project/.retrain',
      cacheDir: '/home/ada/.cache/retrain',
      taskQueue: 'retrain',
      namespace: 'default',
      logLevel: 'WARN',
      temporal: null,
      databaseUrl: null,
      s3: null,
      localS3: { kind: 'embedded', bucket: 'retrain', region: 'us-east-1', accessKeyId: 'retrain' },
      gatewayUrl: null,
      gatewayListen: { host: '127.0.0.1', port: 8080 },
      workerMetrics: { host: '127.0.0.1', port: null, temporalPort: null, modelWindowSeconds: 3600 },
    });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('serves the worker metrics and the Temporal SDK metrics only when their ports are set', () => {
    const env = parse({ RETRAIN_WORKER_METRICS_PORT: '9464', RETRAIN_TEMPORAL_METRICS_PORT: '9465', RETRAIN_WORKER_METRICS_HOST: '0.0.0.0', RETRAIN_MODEL_METRICS_WINDOW_SECONDS: '86400' });
    expect(env.workerMetrics).toEqual({ host: '0.0.0.0', port: 9464, temporalPort: 9465, modelWindowSeconds: 86400 });
    expect(parse({ RETRAIN_WORKER_METRICS_PORT: '0' }).workerMetrics.port).toBe(0);
    expect(problemsOf({ RETRAIN_TEMPORAL_METRICS_PORT: '0', RETRAIN_MODEL_METRICS_WINDOW_SECONDS: 'an hour' })).toEqual([
      "RETRAIN_TEMPORAL_METRICS_PORT must be a port number from 1 to 65535, got '0'",
      "RETRAIN_MODEL_METRICS_WINDOW_SECONDS must be a number of seconds, got 'an hour'",
    ]);
  });

  it('takes each external service from its own variables: DATABASE_URL alone keeps the embedded Temporal and S3', () => {
    const env = parse({ DATABASE_URL: 'postgres://retrain@db.internal:5432/retrain' });
    expect(env.databaseUrl).toBe('postgres://retrain@db.internal:5432/retrain');
    expect(env.temporal).toBeNull();
    expect(env.s3).toBeNull();

    const onlyS3 = parse({ S3_ENDPOINT: 'https://s3.internal', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret', S3_BUCKET: 'models' });
    expect(onlyS3.s3).toEqual({ endpoint: 'https://s3.internal', region: 'us-east-1', accessKeyId: 'id', secretAccessKey: 'secret', bucket: 'models' });
    expect(onlyS3.databaseUrl).toBeNull();

    const onlyTemporal = parse({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_UI_URL: 'https://temporal.internal' });
    expect(onlyTemporal.temporal).toEqual({ address: 'temporal.internal:7233', uiUrl: 'https://temporal.internal' });
  });

  it('treats empty values as unset and resolves relative directories from the working directory', () => {
    const env = parse({ DATABASE_URL: '', S3_ENDPOINT: ' ', RETRAIN_DATA_DIR: 'state', RETRAIN_CACHE_DIR: '../cache' });
    expect(env.databaseUrl).toBeNull();
    expect(env.s3).toBeNull();
    expect(env.dataDir).toBe('/work/project/state');
    expect(env.cacheDir).toBe('/work/cache');
  });

  it('refuses a partial S3 setting, naming the missing variable', () => {
    expect(problemsOf({ S3_ENDPOINT: 'https://s3.internal', S3_ACCESS_KEY_ID: 'id' })).toEqual(['S3_SECRET_ACCESS_KEY is required when S3_ENDPOINT is set']);
    expect(problemsOf({ S3_ENDPOINT: 'https://s3.internal' })).toEqual([
      'S3_ACCESS_KEY_ID is required when S3_ENDPOINT is set',
      'S3_SECRET_ACCESS_KEY is required when S3_ENDPOINT is set',
    ]);
    expect(problemsOf({ S3_ACCESS_KEY_ID: 'id' })[0]).toMatch(/^S3_SECRET_ACCESS_KEY is missing: set both or neither/);
  });

  it('refuses a UI URL without the cluster it belongs to', () => {
    expect(problemsOf({ TEMPORAL_UI_URL: 'https://temporal.internal' })[0]).toMatch(/^TEMPORAL_UI_URL is set but TEMPORAL_ADDRESS is not/);
  });

  it('names each invalid variable and its rule, without echoing secrets', () => {
    const problems = problemsOf({
      TEMPORAL_ADDRESS: 'http://temporal:7233',
      DATABASE_URL: 'mysql://root:hunter2@db/retrain',
      S3_BUCKET: 'Models',
      GATEWAY_PORT: 'eighty',
      RETRAIN_LOG_LEVEL: 'LOUD',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "TEMPORAL_ADDRESS must be host:port, e.g. temporal.internal:7233, got 'http://temporal:7233'",
        'DATABASE_URL must be a postgres:// or postgresql:// URL',
        expect.stringMatching(/^S3_BUCKET must be a valid S3 bucket name .*, got 'Models'$/),
        expect.stringMatching(/^GATEWAY_PORT must be a port number/),
        "RETRAIN_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, got 'LOUD'",
      ]),
    );
    expect(problems.join(' ')).not.toContain('hunter2');
    expect(() => parse({ GATEWAY_PORT: 'eighty' })).toThrow(/^invalid environment: GATEWAY_PORT must be a port number/);
  });

  it('reads the gateway\'s API keys file or an explicit open mode, and refuses the two together or keys without a file', () => {
    expect(parse({}).gatewayAuth).toBeNull();
    expect(parse({ RETRAIN_GATEWAY_API_KEYS_FILE: 'keys.json' }).gatewayAuth).toEqual({ mode: 'keys', keysFile: '/work/project/keys.json' });
    expect(parse({ RETRAIN_GATEWAY_AUTH: 'keys', RETRAIN_GATEWAY_API_KEYS_FILE: '/etc/retrain/keys.json' }).gatewayAuth).toEqual({ mode: 'keys', keysFile: '/etc/retrain/keys.json' });
    expect(parse({ RETRAIN_GATEWAY_AUTH: 'open' }).gatewayAuth).toEqual({ mode: 'open' });
    expect(problemsOf({ RETRAIN_GATEWAY_AUTH: 'open', RETRAIN_GATEWAY_API_KEYS_FILE: 'k.json' })).toEqual([expect.stringMatching(/^RETRAIN_GATEWAY_AUTH is open but RETRAIN_GATEWAY_API_KEYS_FILE is set/)]);
    expect(problemsOf({ RETRAIN_GATEWAY_AUTH: 'keys' })).toEqual([expect.stringMatching(/^RETRAIN_GATEWAY_AUTH is keys but RETRAIN_GATEWAY_API_KEYS_FILE is not set/)]);
    expect(problemsOf({ RETRAIN_GATEWAY_AUTH: 'none' })).toEqual(["RETRAIN_GATEWAY_AUTH must be keys or open, got 'none'"]);
  });

  it('takes the API key commands send, and never echoes it', () => {
    expect(parse({ RETRAIN_GATEWAY_API_KEY: 'rtk_abc' }).gatewayApiKey).toBe('rtk_abc');
    expect(parse({}).gatewayApiKey).toBeNull();
    const problems = problemsOf({ RETRAIN_GATEWAY_API_KEY: 'rtk_a b' });
    expect(problems).toEqual([expect.stringMatching(/^RETRAIN_GATEWAY_API_KEY must be one word/)]);
    expect(problems.join(' ')).not.toContain('rtk_a');
  });

  it('takes the reports base URL, else the gateway the process knows, else none (presigned links)', () => {
    const configured = parse({ RETRAIN_REPORTS_BASE_URL: 'https://retrain.example.com/' });
    expect(configured.reportsBaseUrl).toBe('https://retrain.example.com');
    expect(reportsBaseUrlFor(configured, 'http://127.0.0.1:8080')).toBe('https://retrain.example.com');
    expect(reportsBaseUrlFor(parse({}), 'http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(reportsBaseUrlFor(parse({}), undefined)).toBeNull();
    expect(problemsOf({ RETRAIN_REPORTS_BASE_URL: 'retrain.example.com' })).toEqual(["RETRAIN_REPORTS_BASE_URL must be an http:// or https:// URL, got 'retrain.example.com'"]);
    expect(problemsOf({ RETRAIN_REPORTS_BASE_URL: 'https://retrain.example.com/?token=1' })).toEqual([
      "RETRAIN_REPORTS_BASE_URL must be a base URL without a query or fragment, got 'https://retrain.example.com/?token=1'",
    ]);
  });

  it('takes a Label Studio with its token, and the webhook with its secret, refusing either half alone and never echoing them', () => {
    const env = parse({ LABEL_STUDIO_URL: 'http://labels.internal:8080', LABEL_STUDIO_API_TOKEN: 'a.b.c', RETRAIN_LABELING_WEBHOOK_URL: 'http://retrain:8080/v1/labeling/label-studio/webhook', RETRAIN_LABELING_WEBHOOK_SECRET: 'x'.repeat(24) });
    expect(env.labeling).toEqual({ labelStudio: { url: 'http://labels.internal:8080', token: 'a.b.c' }, webhook: { url: 'http://retrain:8080/v1/labeling/label-studio/webhook', secret: 'x'.repeat(24) } });
    expect(parse({}).labeling).toEqual({ labelStudio: null, webhook: null });
    expect(problemsOf({ LABEL_STUDIO_URL: 'http://labels.internal:8080' })).toEqual([expect.stringMatching(/^LABEL_STUDIO_API_TOKEN is required when LABEL_STUDIO_URL is set/)]);
    expect(problemsOf({ RETRAIN_LABELING_WEBHOOK_URL: 'http://retrain:8080/hook' })).toEqual([expect.stringMatching(/^RETRAIN_LABELING_WEBHOOK_SECRET is required/)]);
    const problems = problemsOf({ RETRAIN_LABELING_WEBHOOK_SECRET: 'short-secret', LABEL_STUDIO_API_TOKEN: 'tok en' });
    expect(problems).toHaveLength(2);
    expect(problems.join(' ')).not.toMatch(/short-secret|tok en/);
  });

  it('lists every variable it reads', () => {
    expect(RETRAIN_ENVIRONMENT_VARIABLES).toEqual(
      expect.arrayContaining(['RETRAIN_DATA_DIR', 'TEMPORAL_ADDRESS', 'DATABASE_URL', 'S3_ENDPOINT', 'S3_BUCKET', 'GATEWAY_PORT', 'TEMPORAL_CLI', 'VERSITYGW_BIN', 'RETRAIN_GATEWAY_AUTH', 'RETRAIN_GATEWAY_API_KEYS_FILE', 'RETRAIN_GATEWAY_API_KEY', 'RETRAIN_REPORTS_BASE_URL', 'LABEL_STUDIO_URL', 'LABEL_STUDIO_API_TOKEN', 'RETRAIN_LABELING_WEBHOOK_URL', 'RETRAIN_LABELING_WEBHOOK_SECRET']),
    );
  });
});

describe('parseEnvironment: notification webhooks', () => {
  it('notifies nobody unless webhooks are named; takes several, each with its format, and the attempts', () => {
    expect(parse({}).notifications).toEqual({ targets: [], maxAttempts: 6 });
    const env = parse({
      RETRAIN_NOTIFY_WEBHOOK_URL: 'https://ops.example/retrain, slack=https://hooks.slack.com/services/T0/B0/secret  json=http://10.0.0.5:8080/hook',
      RETRAIN_NOTIFY_MAX_ATTEMPTS: '3',
    });
    expect(env.notifications).toEqual({
      targets: [
        { url: 'https://ops.example/retrain', format: 'json' },
        { url: 'https://hooks.slack.com/services/T0/B0/secret', format: 'slack' },
        { url: 'http://10.0.0.5:8080/hook', format: 'json' },
      ],
      maxAttempts: 3,
    });
    expect(parse({ RETRAIN_NOTIFY_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', RETRAIN_NOTIFY_FORMAT: 'slack' }).notifications.targets).toEqual([
      { url: 'https://hooks.slack.com/services/T0/B0/x', format: 'slack' },
    ]);
  });

  it('refuses a bad entry by its position and rule without repeating it (webhook URLs hold tokens), a format without URLs, and attempts out of range', () => {
    const problems = problemsOf({ RETRAIN_NOTIFY_WEBHOOK_URL: 'https://ok.example/h teams=https://x.example/t0ken ftp://files.example/t0ken hooks.slack.com/t0ken' });
    expect(problems).toEqual([
      "RETRAIN_NOTIFY_WEBHOOK_URL entry 2 has the format 'teams': use json= or slack= before the URL, or none",
      'RETRAIN_NOTIFY_WEBHOOK_URL entry 3 is not an http:// or https:// URL (optionally prefixed with json= or slack=)',
      'RETRAIN_NOTIFY_WEBHOOK_URL entry 4 is not an http:// or https:// URL (optionally prefixed with json= or slack=)',
    ]);
    expect(problems.join(' ')).not.toContain('t0ken');
    expect(problemsOf({ RETRAIN_NOTIFY_FORMAT: 'slack' })).toEqual([expect.stringMatching(/^RETRAIN_NOTIFY_FORMAT is set but RETRAIN_NOTIFY_WEBHOOK_URL is not/)]);
    expect(problemsOf({ RETRAIN_NOTIFY_WEBHOOK_URL: 'https://ok.example/h', RETRAIN_NOTIFY_FORMAT: 'teams' })).toEqual(["RETRAIN_NOTIFY_FORMAT must be one of json, slack, got 'teams'"]);
    expect(problemsOf({ RETRAIN_NOTIFY_MAX_ATTEMPTS: '0' })).toEqual(["RETRAIN_NOTIFY_MAX_ATTEMPTS must be a whole number from 1 to 20, got '0'"]);
    expect(RETRAIN_ENVIRONMENT_VARIABLES).toEqual(expect.arrayContaining(['RETRAIN_NOTIFY_WEBHOOK_URL', 'RETRAIN_NOTIFY_FORMAT', 'RETRAIN_NOTIFY_MAX_ATTEMPTS']));
  });
});
