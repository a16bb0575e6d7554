import { describe, expect, it } from 'vitest';
import { EnvironmentError, parseEnvironment, RETRAIN_ENVIRONMENT_VARIABLES } from '../../lib/config/environment';

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
    });
    expect(Object.isFrozen(env)).toBe(true);
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
      expect.arrayContaining(['RETRAIN_DATA_DIR', 'TEMPORAL_ADDRESS', 'DATABASE_URL', 'S3_ENDPOINT', 'S3_BUCKET', 'GATEWAY_PORT', 'TEMPORAL_CLI', 'VERSITYGW_BIN', 'RETRAIN_GATEWAY_AUTH', 'RETRAIN_GATEWAY_API_KEYS_FILE', 'RETRAIN_GATEWAY_API_KEY', 'LABEL_STUDIO_URL', 'LABEL_STUDIO_API_TOKEN', 'RETRAIN_LABELING_WEBHOOK_URL', 'RETRAIN_LABELING_WEBHOOK_SECRET']),
    );
  });
});
