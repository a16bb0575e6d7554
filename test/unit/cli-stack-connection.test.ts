import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../lib/config/environment';
import { resolveStackConnection } from '../../cli/stack/stack-client';
import { writeStackFile, type StackConnection } from '../../cli/stack/stack-file';

describe('where a command finds each service', () => {
  let dataDir: string;
  const recorded = (pid: number): StackConnection => ({
    pid,
    temporal: { address: '127.0.0.1:7233', uiUrl: 'http://127.0.0.1:8233', namespace: 'default' },
    taskQueue: 'retrain',
    databaseUrl: 'postgres://postgres@127.0.0.1:55432/retrain',
    s3: { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'retrain', secretAccessKey: 'retrain-local-secret', bucket: 'retrain' },
    gatewayUrl: 'http://127.0.0.1:8080',
  });
  const environment = (vars: Record<string, string>) => parseEnvironment({ RETRAIN_DATA_DIR: dataDir, ...vars }, { cwd: '/', homeDir: '/root' });

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrain-stack-connection-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('takes DATABASE_URL alone from the environment and the other services from the running stack', async () => {
    const env = environment({ DATABASE_URL: 'postgres://retrain@db.internal:5432/retrain' });
    await writeStackFile(env, recorded(process.pid));
    const connection = await resolveStackConnection(env);
    expect(connection.databaseUrl).toBe('postgres://retrain@db.internal:5432/retrain');
    expect(connection.temporal.address).toBe('127.0.0.1:7233');
    expect(connection.s3.endpoint).toBe('http://127.0.0.1:9000');
    expect(connection.gatewayUrl).toBe('http://127.0.0.1:8080');
  });

  it('needs no running stack when every service is named', async () => {
    const env = environment({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      DATABASE_URL: 'postgres://retrain@db.internal:5432/retrain',
      S3_ENDPOINT: 'https://s3.internal',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    const connection = await resolveStackConnection(env);
    expect(connection).toMatchObject({ temporal: { address: 'temporal.internal:7233', namespace: 'default' }, s3: { endpoint: 'https://s3.internal', bucket: 'retrain' } });
  });

  it('says how to start a stack, or which variables to set, when there is none', async () => {
    const env = environment({ DATABASE_URL: 'postgres://retrain@db.internal:5432/retrain' });
    await expect(resolveStackConnection(env)).rejects.toThrow(
      `no running stack found in ${dataDir}: start one with \`retrain up\` in another terminal, or set TEMPORAL_ADDRESS, S3_ENDPOINT to existing services`,
    );
  });

  it('refuses a stack file whose process is gone', async () => {
    const env = environment({});
    await writeStackFile(env, recorded(2 ** 22 + 12345));
    await expect(resolveStackConnection(env)).rejects.toThrow(/is not running: start it with `retrain up`/);
  });
});
