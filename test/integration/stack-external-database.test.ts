import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { parseEnvironment } from '../../lib/config/environment';
import { startStack } from '../../lib/dev-stack/stack';
import { RETRAIN_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions';

// Each external service is taken from its own variable: DATABASE_URL alone must give an external
// Postgres with the embedded Temporal and S3, not be ignored for want of the other two.
describe('a stack with only DATABASE_URL set', () => {
  it('uses that Postgres and starts Temporal and S3 itself', { timeout: 120_000 }, async () => {
    const services = inject('services');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrain-external-db-'));
    await chmod(dataDir, 0o711);
    const environment = parseEnvironment(
      { RETRAIN_DATA_DIR: dataDir, DATABASE_URL: services.databaseUrl, TEMPORAL_CLI: process.env.TEMPORAL_CLI, RETRAIN_CACHE_DIR: process.env.RETRAIN_CACHE_DIR },
      { cwd: process.cwd(), homeDir: os.homedir(), xdgCacheHome: process.env.XDG_CACHE_HOME },
    );
    const stack = await startStack({ environment, searchAttributes: RETRAIN_SEARCH_ATTRIBUTE_KEYS, stopOnSignal: false });
    try {
      expect(stack.databaseUrl).toBe(services.databaseUrl);
      expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
      expect(stack.temporal.address).not.toBe(services.temporalAddress);
      expect(stack.s3.endpoint).not.toBe(services.s3.endpoint);
      const client = new pg.Client({ connectionString: stack.databaseUrl });
      await client.connect();
      try {
        expect((await client.query<{ one: number }>('select 1 as one')).rows[0]?.one).toBe(1);
      } finally {
        await client.end();
      }
      const health = await fetch(`${stack.temporal.uiUrl}/`);
      expect(health.status).toBe(200);
    } finally {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
