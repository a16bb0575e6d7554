import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { createS3Client } from '../../lib/clients/s3-client';
import { generateApiKey, hashApiKey } from '../../lib/config/gateway-api-keys';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { applyDeploymentChange } from '../../lib/db/repositories/deployments';
import { upsertModel } from '../../lib/db/repositories/models';
import { registerUploadedVersion } from '../fixtures/registered-version';
import type { Database } from '../../lib/db/schema';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { exportBuiltinModelToOnnx, trainBuiltinModel } from '../../lib/training/trainers';
import { createMigratedDatabase } from '../fixtures/test-database';

const ROOT = path.join(__dirname, '..', '..');
const WORKFLOW_ID = 'gateway-bad-requests';

interface BadRequest {
  name: string;
  method: string;
  path: string;
  auth: 'both' | 'predict-only' | 'other-model' | 'all' | 'unknown' | 'basic' | 'none';
  contentType?: string;
  body?: unknown;
  raw?: string;
  status: number;
  code: string;
  message: string;
  field?: string;
}

const corpus = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'bad-requests.json'), 'utf8')) as { cases: BadRequest[] };

/** The fixture's shorthands: {"$string": s, "times": n} and {"$repeat": n, "of": x}. */
function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if (typeof record.$string === 'string') return record.$string.repeat(record.times as number);
  if (typeof record.$repeat === 'number') return Array.from({ length: record.$repeat }, () => expand(record.of));
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, expand(v)]));
}

/**
 * The corpus of bad requests (test/fixtures/bad-requests.json) against a real gateway over the
 * integration Postgres and S3: each gets its status, code, field and a message naming the
 * problem, in the one error shape; afterwards the log holds the rows of the good requests only.
 */
describe('gateway: a corpus of bad requests', () => {
  let db: Kysely<Database>;
  let s3: S3Client;
  let scratch: string;
  let spec: ModelSpec;
  let gateway: Gateway;
  let url: string;
  const keys = { both: generateApiKey(), 'predict-only': generateApiKey(), 'other-model': generateApiKey(), all: generateApiKey() };
  const instance = { dep_hour: 7.5, weekday: 3, distance: 950, origin: 'SFO', destination: 'SEA' };

  function headersFor(auth: BadRequest['auth'], contentType = 'application/json'): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (auth === 'unknown') headers.authorization = `Bearer ${generateApiKey()}`;
    else if (auth === 'basic') headers.authorization = 'Basic dXNlcjpwYXNz';
    else if (auth !== 'none') headers.authorization = `Bearer ${keys[auth]}`;
    return headers;
  }

  async function send(method: string, route: string, body: string | undefined, headers: Record<string, string>) {
    const response = await fetch(`${url}${route.replaceAll('{model}', spec.name)}`, { method, headers: body === undefined ? {} : headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text.length > 0 ? (JSON.parse(text) as unknown) : null };
  }

  const good = (route: string, body: unknown) => send('POST', route, JSON.stringify(body), headersFor('both'));

  beforeAll(async () => {
    const services = inject('services');
    const suffix = randomBytes(3).toString('hex');
    let databaseUrl: string;
    ({ db, url: databaseUrl } = await createMigratedDatabase(services.databaseUrl, 'retrain_bad_requests'));
    s3 = createS3Client(services.s3);
    const store = new ArtifactStore({ client: s3, bucket: services.s3.bucket });
    scratch = await mkdtemp(path.join(services.workDir, `bad-requests-${suffix}-`));

    spec = { ...loadModelSpec(path.join(ROOT, 'examples', 'flight-delay', 'model.json')), name: `flight-delay-bad-${suffix}` };
    await upsertModel(db, spec, WORKFLOW_ID);
    const days = await prepareFlightDelayPartitions({ from: '2001-01-02', to: '2001-01-02', target: { kind: 'local', dir: path.join(scratch, 'source') } });
    const table = await loadFeatureTable([days[0]!.key], spec);
    const trainer = spec.training.trainer;
    if (trainer.kind !== 'builtin') throw new Error('the example spec must use the built-in trainer');
    const model = await trainBuiltinModel({ table, features: spec.features, classes: 2, options: trainer, epochs: 1 });
    const version = await registerUploadedVersion(db, store, {
      spec,
      onnx: exportBuiltinModelToOnnx(model),
      fingerprint: 'bad-requests',
      registeredBy: 'the bad-requests test',
      workflowId: WORKFLOW_ID,
    });
    await applyDeploymentChange(db, { model: spec.name, changeKey: `${WORKFLOW_ID}/champion`, reason: 'test', workflowId: WORKFLOW_ID, set: { championVersionId: version.id } });

    gateway = createGateway({
      db,
      store,
      databaseUrl: databaseUrl,
      auth: {
        mode: 'keys',
        keys: [
          { name: 'both', sha256: hashApiKey(keys.both), models: [spec.name], scopes: ['predict', 'feedback'] },
          { name: 'predict-only', sha256: hashApiKey(keys['predict-only']), models: [spec.name], scopes: ['predict'] },
          { name: 'other-model', sha256: hashApiKey(keys['other-model']), models: ['another-model'], scopes: ['predict', 'feedback'] },
          { name: 'all', sha256: hashApiKey(keys.all), models: ['*'], scopes: ['predict', 'feedback'] },
        ],
      },
      log: pino({ level: 'silent' }),
      flushIntervalMs: 20,
      limits: { maxBodyBytes: 64 * 1024, maxInstances: 100 },
    });
    url = (await gateway.start(0)).url;

    // What the corpus refers to: served ids, a batch, a labelled id.
    expect((await good('/v1/models/{model}/predict', { instance, requestId: 'served-1' })).status).toBe(200);
    expect((await good('/v1/models/{model}/predict', { instances: [instance, instance], requestId: 'served-batch' })).status).toBe(200);
    expect((await good('/v1/models/{model}/predict', { instance, requestId: 'served-labelled' })).status).toBe(200);
    expect((await good('/v1/models/{model}/feedback', { requestId: 'served-labelled', label: 1 })).status).toBe(202);
  });

  afterAll(async () => {
    await gateway?.close();
    s3?.destroy();
    await db?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it.each(corpus.cases.map((c) => [c.name, c] as const))('%s', async (_, bad) => {
    const body = bad.raw ?? (bad.body === undefined ? undefined : JSON.stringify(expand(bad.body)));
    const answer = await send(bad.method, bad.path, body, headersFor(bad.auth, bad.contentType));
    expect(answer.status, JSON.stringify(answer.body)).toBe(bad.status);
    const error = (answer.body as { error?: Record<string, unknown> } | null)?.error;
    // The one shape: { error: { code, message, field? } } and nothing else.
    expect(Object.keys(answer.body as object)).toEqual(['error']);
    expect(Object.keys(error!).filter((k) => !['code', 'message', 'field'].includes(k))).toEqual([]);
    expect(error!.code).toBe(bad.code);
    expect(error!.message).toMatch(new RegExp(bad.message.replaceAll('{model}', spec.name)));
    expect(error!.message).not.toMatch(/must be a number, got number/);
    if (bad.field !== undefined) expect(error!.field).toBe(bad.field);
    if (bad.status === 401) expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    if (bad.status === 405) expect(answer.headers.get('allow')).toBeTruthy();
  });

  it('wrote nothing for a refused request: the log holds the good requests\' rows and label only', async () => {
    // A last good request and label: the log writes in order, so once they are stored, everything queued before is.
    expect((await good('/v1/models/{model}/predict', { instance, requestId: 'sentinel' })).status).toBe(200);
    expect((await good('/v1/models/{model}/feedback', { requestId: 'sentinel', label: 0 })).status).toBe(202);
    const feedbackRows = async () => (await db.selectFrom('feedback').select(['request_id', 'label']).orderBy('id').execute()).map((r) => `${r.request_id}:${r.label}`);
    await expect.poll(feedbackRows, { timeout: 5_000 }).toEqual(['served-labelled:1', 'sentinel:0']);
    const predictions = await db.selectFrom('predictions').select(['request_id', 'role', 'error']).orderBy('id').execute();
    expect(predictions.map((r) => r.request_id)).toEqual(['served-1', 'served-batch/0', 'served-batch/1', 'served-labelled', 'sentinel']);
    expect(predictions.every((r) => r.role === 'champion' && r.error === null)).toBe(true);
  });
});
