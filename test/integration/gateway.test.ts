import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { generateApiKey, hashApiKey } from '../../lib/config/gateway-api-keys';
import type { FeatureRecord } from '../../gateway/model-session';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { createDatabase } from '../../lib/db/connection';
import { createMigrator, migrateToLatest } from '../../lib/db/migrate';
import * as shadowRowsWithoutFeatures from '../../lib/db/migrations/2026-11-26-0006-shadow-rows-without-features';
import { applyDeploymentChange, getDeployment, listDeploymentChanges, type DeploymentTraffic } from '../../lib/db/repositories/deployments';
import { getFeedback } from '../../lib/db/repositories/feedback';
import { type ModelVersion } from '../../lib/db/repositories/model-versions';
import { upsertModel } from '../../lib/db/repositories/models';
import { labelledOutcomes, listPredictions, pairedShadowPredictions, predictionStats } from '../../lib/db/repositories/predictions';
import type { Database } from '../../lib/db/schema';
import type { FeatureTable } from '../../lib/data/feature-table';
import { exportBuiltinModelToOnnx, predictBuiltinModel, trainBuiltinModel, type BuiltinModel } from '../../lib/training/trainers';
import { createS3Client } from '../../lib/clients/s3-client';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { insertTrainingRun } from '../../lib/db/repositories/training-runs';
import { registerUploadedVersion, registerVersion } from '../fixtures/registered-version';

const SPEC_FILE = path.join(__dirname, '..', '..', 'examples', 'flight-delay', 'model.json');
const WORKFLOW_ID = 'gateway-test';
/** Keys of the test's gateway: one with both scopes for the model, one that may only predict, one for another model. */
const KEYS = { both: generateApiKey(), predictOnly: generateApiKey(), otherModel: generateApiKey() };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The gateway against real Postgres and S3: three versions of a flight-delay logistic
 * regression trained here (different seeds and epochs) and registered like candidate
 * training does, deployed with applyDeploymentChange as workflows will.
 */
describe('inference gateway', () => {
  let db: Kysely<Database>;
  let databaseUrl: string;
  let s3: S3Client;
  let store: ArtifactStore;
  let scratch: string;
  let spec: ModelSpec;
  let holdout: FeatureTable;
  let instances: FeatureRecord[];
  const versions: ModelVersion[] = [];
  const models: BuiltinModel[] = [];
  let gateway: Gateway;
  let url: string;
  let changeCounter = 0;

  /** POSTs with the key that has both scopes, unless `headers` says otherwise. */
  async function post(route: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${KEYS.both}` }): Promise<Answer> {
    const response = await fetch(`${url}${route}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Creates a gateway on the test's database with its keys (a second one has a memory of its own). */
  function newGateway(): Gateway {
    return createGateway({
      db,
      store,
      databaseUrl,
      auth: {
        mode: 'keys',
        keys: [
          { name: 'both', sha256: hashApiKey(KEYS.both), models: [spec.name], scopes: ['predict', 'feedback'] },
          { name: 'predict-only', sha256: hashApiKey(KEYS.predictOnly), models: [spec.name], scopes: ['predict'] },
          { name: 'other-model', sha256: hashApiKey(KEYS.otherModel), models: ['another-model'], scopes: ['predict', 'feedback'] },
        ],
      },
      log: pino({ level: 'silent' }),
      flushIntervalMs: 50,
      limits: { maxBodyBytes: 64 * 1024, maxInstances: 100 },
    });
  }

  async function get(route: string): Promise<Answer> {
    const response = await fetch(`${url}${route}`);
    const text = await response.text();
    return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : { text } };
  }

  async function deploy(set: Partial<DeploymentTraffic>, reason = 'test') {
    return applyDeploymentChange(db, { model: spec.name, changeKey: `${WORKFLOW_ID}/change-${++changeCounter}`, reason, workflowId: WORKFLOW_ID, set });
  }

  /** Polls until the gateway serves the deployment's current revision. */
  async function servedRevision(): Promise<number> {
    const deployment = await getDeployment(db, spec.name);
    await expect
      .poll(async () => ((await get('/v1/models')).body.models as { model: string; revision: number }[]).find((m) => m.model === spec.name)?.revision, { timeout: 5_000, interval: 20 })
      .toBe(deployment!.revision);
    return deployment!.revision;
  }

  function instanceAt(i: number): FeatureRecord {
    return instances[i % instances.length]!;
  }

  beforeAll(async () => {
    const services = inject('services');
    const suffix = randomBytes(3).toString('hex');
    const admin = createDatabase(services.databaseUrl, 1);
    await sql.raw(`create database retrain_gateway_${suffix}`).execute(admin);
    await admin.destroy();
    const dbUrl = new URL(services.databaseUrl);
    dbUrl.pathname = `/retrain_gateway_${suffix}`;
    databaseUrl = dbUrl.toString();
    db = createDatabase(databaseUrl);
    await migrateToLatest(db);
    s3 = createS3Client(services.s3);
    store = new ArtifactStore({ client: s3, bucket: services.s3.bucket });
    scratch = await mkdtemp(path.join(services.workDir, `gateway-${suffix}-`));

    spec = { ...loadModelSpec(SPEC_FILE), name: `flight-delay-gateway-${suffix}` };
    await upsertModel(db, spec, WORKFLOW_ID);
    const days = await prepareFlightDelayPartitions({ from: '2001-01-02', to: '2001-01-04', target: { kind: 'local', dir: path.join(scratch, 'source') } });
    const train = await loadFeatureTable(days.slice(0, 2).map((d) => d.key), spec);
    holdout = await loadFeatureTable([days[2]!.key], spec);
    instances = Array.from({ length: 500 }, (_, i) => {
      const row = i * 7;
      const record: Record<string, number | string | null> = {};
      for (const f of spec.features) {
        record[f.name] = f.kind === 'numeric' ? holdout.numeric[f.name]![row]! : holdout.categorical[f.name]![row]!;
      }
      return record;
    });

    const trainer = spec.training.trainer;
    if (trainer.kind !== 'builtin') throw new Error('the example spec must use the built-in trainer');
    for (const [seed, epochs] of [[1, 2], [2, 1], [3, 3]] as const) {
      const model = await trainBuiltinModel({ table: train, features: spec.features, classes: 2, options: { ...trainer, seed }, epochs });
      models.push(model);
      versions.push(await registerUploadedVersion(db, store, { spec, onnx: exportBuiltinModelToOnnx(model), fingerprint: `seed-${seed}`, registeredBy: 'the gateway test', workflowId: WORKFLOW_ID }));
    }
    await deploy({ championVersionId: versions[0]!.id }, 'first champion');

    gateway = newGateway();
    url = (await gateway.start(0)).url;
  });

  afterAll(async () => {
    await gateway?.close();
    s3?.destroy();
    await db?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('serves the champion: its probabilities match the trained model, and every row is logged', async () => {
    const one = await post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(0), requestId: 'single-1' });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ model: spec.name, version: 1, role: 'champion', requestId: 'single-1' });
    const batch = await post(`/v1/models/${spec.name}/predict`, { instances: [instanceAt(0), instanceAt(1), instanceAt(2)], requestId: 'batch-1' });
    expect(batch.status).toBe(200);
    const predictions = batch.body.predictions as { probability: number; label: number }[];
    // The reference: the built-in model in float64 on the same rows.
    const expected = predictBuiltinModel(models[0]!, {
      rows: 3,
      numeric: Object.fromEntries(spec.features.filter((f) => f.kind === 'numeric').map((f) => [f.name, Float64Array.from([0, 1, 2], (i) => Number(instanceAt(i)[f.name] ?? NaN))])),
      categorical: Object.fromEntries(spec.features.filter((f) => f.kind === 'categorical').map((f) => [f.name, [0, 1, 2].map((i) => instanceAt(i)[f.name] as string | null)])),
    });
    predictions.forEach((p, i) => {
      expect(p.probability).toBeCloseTo(expected[2 * i + 1]!, 5);
      expect(p.label).toBe(p.probability >= 0.5 ? 1 : 0);
    });
    expect((one.body.predictions as { probability: number }[])[0]!.probability).toBeCloseTo(predictions[0]!.probability, 6);

    await expect.poll(async () => (await listPredictions(db, { model: spec.name, requestIds: ['single-1', 'batch-1/0', 'batch-1/1', 'batch-1/2'] })).length).toBe(4);
    const logged = await listPredictions(db, { model: spec.name, requestIds: ['batch-1/0', 'batch-1/1', 'batch-1/2'] });
    expect(logged.map((r) => r.requestId).sort()).toEqual(['batch-1/0', 'batch-1/1', 'batch-1/2']);
    for (const row of logged) {
      const i = Number(row.requestId.split('/')[1]);
      expect(row).toMatchObject({ model: spec.name, modelVersionId: versions[0]!.id, role: 'champion', error: null, routingKey: null });
      expect(row.features).toEqual(instanceAt(i));
      expect(row.probability).toBeCloseTo(predictions[i]!.probability, 6);
      expect(row.predictedLabel).toBe(predictions[i]!.label);
      expect(row.latencyMs).toBeGreaterThan(0);
    }
  });

  it('logs ids and feature values with tabs, newlines, quotes, backslashes and non-ASCII characters exactly', async () => {
    const origin = 'O\'Hare\t"T1"\n\\ Zürich ☃';
    const requestId = 'odd\\id "1" ☃';
    const answer = await post(`/v1/models/${spec.name}/predict`, { instance: { ...instanceAt(0), origin }, requestId, routingKey: 'tab\\t key' });
    expect(answer.status).toBe(200);
    await expect.poll(async () => (await listPredictions(db, { model: spec.name, requestIds: [requestId] })).length).toBe(1);
    const [row] = await listPredictions(db, { model: spec.name, requestIds: [requestId] });
    expect(row).toMatchObject({ requestId, routingKey: 'tab\\t key', features: { ...instanceAt(0), origin }, error: null });
    expect(row!.probability).toBeCloseTo((answer.body.predictions as { probability: number }[])[0]!.probability, 6);
    expect((await post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(0), requestId: 'line\nbreak' })).body.error).toEqual({
      code: 'invalid_field',
      field: 'requestId',
      message: "'requestId' must be a non-empty string of at most 200 characters, without control characters or unpaired surrogates; got 'line\\nbreak', which contains the control character U+000A",
    });
  });

  it('speaks the Open Inference Protocol: ready, metadata and infer with the same answers as v1', async () => {
    expect((await get(`/v2/models/${spec.name}/ready`)).status).toBe(200);
    expect((await get('/v2/models/nope/ready')).status).toBe(404);
    const metadata = await get(`/v2/models/${spec.name}`);
    expect(metadata.body).toEqual({
      name: spec.name,
      versions: ['1'],
      platform: 'onnx',
      inputs: spec.features.map((f) => ({ name: f.name, datatype: f.kind === 'numeric' ? 'FP32' : 'BYTES', shape: [-1, 1] })),
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
    });
    const rows = [instanceAt(0), instanceAt(1)];
    const inputs = spec.features.map((f) => ({ name: f.name, shape: [2, 1], datatype: f.kind === 'numeric' ? 'FP32' : 'BYTES', data: rows.map((r) => r[f.name]) }));
    const infer = await post(`/v2/models/${spec.name}/infer`, { id: 'v2-1', inputs });
    expect(infer.status).toBe(200);
    expect(infer.body).toMatchObject({ model_name: spec.name, model_version: '1', id: 'v2-1' });
    const [output] = infer.body.outputs as { name: string; shape: number[]; datatype: string; data: number[] }[];
    expect(output).toMatchObject({ name: 'probabilities', shape: [2, 2], datatype: 'FP32' });
    const v1 = await post(`/v1/models/${spec.name}/predict`, { instances: rows });
    (v1.body.predictions as { probability: number }[]).forEach((p, i) => {
      expect(output!.data[2 * i + 1]).toBeCloseTo(p.probability, 6);
      expect(output!.data[2 * i]! + output!.data[2 * i + 1]!).toBeCloseTo(1, 5);
    });
    await expect.poll(async () => (await listPredictions(db, { model: spec.name, requestIds: ['v2-1/0', 'v2-1/1'] })).length).toBe(2);
    const bad = await post(`/v2/models/${spec.name}/infer`, { inputs: inputs.slice(1) });
    expect(bad).toEqual({ status: 400, body: { error: { code: 'missing_input', field: 'inputs', message: `missing input '${spec.features[0]!.name}' (FP32, shape [-1, 1])` } } });
  });

  it('answers bad requests with a 4xx in one shape that names the problem, and counts them', async () => {
    // The whole corpus runs in gateway-bad-requests.test.ts; here a few, and the metrics they leave.
    const predict = `/v1/models/${spec.name}/predict`;
    expect(await post('/v1/models/no-such-model/predict', { instance: instanceAt(0) }, { 'content-type': 'application/json', authorization: `Bearer ${KEYS.otherModel}` })).toEqual({
      status: 403,
      body: { error: { code: 'forbidden', message: "API key 'other-model' is not for model 'no-such-model' (its models: another-model)" } },
    });
    expect((await post(predict, { instances: [instanceAt(0), { ...instanceAt(1), distance: '950' }] })).body).toEqual({
      error: { code: 'invalid_feature', field: 'instances[1].distance', message: "instance 1: feature 'distance' must be a number or null, got string '950'" },
    });
    expect(await post(predict, { instance: instanceAt(0), pad: 'x'.repeat(70 * 1024) })).toEqual({
      status: 413,
      body: { error: { code: 'body_too_large', message: 'request body is larger than the limit of 65536 bytes' } },
    });
    expect((await post(predict, '{"instance": ')).body.error).toMatchObject({ code: 'invalid_json' });
    expect((await post(predict, 'instance=1', { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${KEYS.both}` })).status).toBe(415);
    expect((await post(predict, { instance: instanceAt(0) }, { 'content-type': 'application/json' })).status).toBe(401);
    const metrics = (await get('/metrics')).body.text as string;
    expect(metrics).toMatch(new RegExp(`retrain_gateway_requests_total\\{model="${spec.name}",version="none",role="none",status="400"\\} [1-9]`));
    expect(metrics).toMatch(/retrain_gateway_requests_total\{model="none",version="none",role="none",status="401"\} [1-9]/);
    expect(metrics).toMatch(/retrain_gateway_requests_total\{model="none",version="none",role="none",status="403"\} [1-9]/);
  });

  it('needs an API key with the scope and the model on predict, infer and feedback', async () => {
    const inputs = spec.features.map((f) => ({ name: f.name, shape: [1, 1], datatype: f.kind === 'numeric' ? 'FP32' : 'BYTES', data: [instanceAt(0)[f.name]] }));
    const json = { 'content-type': 'application/json' };
    const as = (key: string) => ({ ...json, authorization: `Bearer ${key}` });
    const routes = {
      predict: [`/v1/models/${spec.name}/predict`, { instance: instanceAt(0) }],
      infer: [`/v2/models/${spec.name}/infer`, { inputs }],
      feedback: [`/v1/models/${spec.name}/feedback`, { requestId: 'single-1', label: 0 }],
    } as const;
    for (const [name, [route, body]] of Object.entries(routes)) {
      expect((await post(route, body, json)).body.error, name).toMatchObject({ code: 'missing_api_key' });
      expect((await post(route, body, as(generateApiKey()))).body.error, name).toMatchObject({ code: 'invalid_api_key' });
      expect((await post(route, body, as(KEYS.otherModel))).body.error, name).toMatchObject({ code: 'forbidden' });
      // Refused before the body is read: a bad body with no key is a 401, not a 400.
      expect((await post(route, '{"broken', json)).status, name).toBe(401);
    }
    expect((await post(routes.predict[0], routes.predict[1], as(KEYS.predictOnly))).status).toBe(200);
    expect((await post(routes.infer[0], routes.infer[1], as(KEYS.predictOnly))).status).toBe(200);
    expect(await post(routes.feedback[0], routes.feedback[1], as(KEYS.predictOnly))).toEqual({
      status: 403,
      body: { error: { code: 'forbidden', message: "API key 'predict-only' has no 'feedback' scope (its scopes: predict)" } },
    });
    const response = await fetch(`${url}${routes.predict[0]}`, { method: 'POST', headers: json, body: JSON.stringify(routes.predict[1]) });
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Operations endpoints stay open.
    expect((await get('/v1/models')).status).toBe(200);
    expect((await get(`/v2/models/${spec.name}`)).status).toBe(200);
  });

  it('serves a request id once per model: a repeat is a 409 and logs nothing', async () => {
    const predict = `/v1/models/${spec.name}/predict`;
    expect((await post(predict, { instance: instanceAt(3), requestId: 'once-1' })).status).toBe(200);
    expect(await post(predict, { instance: instanceAt(4), requestId: 'once-1' })).toEqual({
      status: 409,
      body: {
        error: {
          code: 'request_id_conflict',
          field: 'requestId',
          message: `request id 'once-1' was already used for a prediction of model '${spec.name}'; request ids are unique per model: send a new one, or none to get a generated UUID`,
        },
      },
    });
    // A batch item id is an id too; and v2's id.
    expect((await post(predict, { instances: [instanceAt(0), instanceAt(1)], requestId: 'once-batch' })).status).toBe(200);
    expect((await post(predict, { instance: instanceAt(0), requestId: 'once-batch/1' })).body.error).toMatchObject({ code: 'request_id_conflict' });
    const inputs = spec.features.map((f) => ({ name: f.name, shape: [1, 1], datatype: f.kind === 'numeric' ? 'FP32' : 'BYTES', data: [instanceAt(0)[f.name]] }));
    expect((await post(`/v2/models/${spec.name}/infer`, { id: 'once-1', inputs })).body.error).toMatchObject({ code: 'request_id_conflict', field: 'id' });
    // Concurrent repeats: exactly one is served.
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(predict, { instance: instanceAt(5), requestId: 'once-concurrent' })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const ids = ['once-1', 'once-concurrent', 'once-batch/1'];
    await expect.poll(async () => (await listPredictions(db, { model: spec.name, requestIds: ids })).length).toBe(3);
    await sleep(200);
    expect((await listPredictions(db, { model: spec.name, requestIds: ids })).length).toBe(3);
  });

  it('records feedback once per served request id, after its prediction, and joins it with the prediction', async () => {
    const since = new Date(Date.now() - 60_000);
    const feedback = `/v1/models/${spec.name}/feedback`;
    expect(await post(feedback, { requestId: 'batch-1/1', label: 1 })).toEqual({ status: 202, body: { model: spec.name, requestId: 'batch-1/1', label: 1, recorded: true } });
    expect(await post(feedback, { requestId: 'batch-1/1', label: 1 })).toEqual({ status: 200, body: { model: spec.name, requestId: 'batch-1/1', label: 1, recorded: false } });
    expect(await post(feedback, { requestId: 'batch-1/1', label: 0 })).toEqual({
      status: 409,
      body: { error: { code: 'feedback_conflict', field: 'label', message: "feedback for request 'batch-1/1' was already recorded with label 1" } },
    });
    expect(await post(feedback, { requestId: 'x', label: 2 })).toEqual({ status: 400, body: { error: { code: 'invalid_field', field: 'label', message: "'label' must be 0 or 1, got number 2" } } });
    expect(await post(feedback, { requestId: 'never-served', label: 1 })).toEqual({
      status: 404,
      body: { error: { code: 'request_not_found', field: 'requestId', message: `request 'never-served' was not served for model '${spec.name}'; feedback is taken for served request ids only` } },
    });
    // A batch's own id is not a served id: its items are.
    expect((await post(feedback, { requestId: 'batch-1', label: 1 })).status).toBe(404);
    expect((await post('/v1/models/nope/feedback', { requestId: 'x', label: 1 }, { 'content-type': 'application/json', authorization: `Bearer ${KEYS.otherModel}` })).status).toBe(403);
    await expect.poll(async () => (await getFeedback(db, spec.name, 'batch-1/1'))?.label).toBe(1);
    const outcomes = await labelledOutcomes(db, { model: spec.name, versionId: versions[0]!.id, since });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ requestId: 'batch-1/1', label: 1 });
    expect(await getFeedback(db, spec.name, 'never-served')).toBeUndefined();
  });

  it('takes the feedback of a request only once its answer is sent, and stores the label with or after its row', async () => {
    const predict = post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(7), requestId: 'racing-1' });
    const early = await post(`/v1/models/${spec.name}/feedback`, { requestId: 'racing-1', label: 0 });
    expect([202, 404]).toContain(early.status);
    expect((await predict).status).toBe(200);
    if (early.status === 404) expect((await post(`/v1/models/${spec.name}/feedback`, { requestId: 'racing-1', label: 0 })).status).toBe(202);
    await expect.poll(async () => (await getFeedback(db, spec.name, 'racing-1'))?.label).toBe(0);
    // The transaction that wrote the label is the prediction row's or a later one.
    const { rows } = await sql<{ prediction: string; feedback: string }>`
      select (select xmin::text from predictions where model = ${spec.name} and request_id = 'racing-1' and role = 'champion') as prediction,
             (select xmin::text from feedback where model = ${spec.name} and request_id = 'racing-1') as feedback
    `.execute(db);
    expect(Number(rows[0]!.feedback)).toBeGreaterThanOrEqual(Number(rows[0]!.prediction));
  });

  it('looks up in Postgres the ids it does not remember (served by another instance, or before a restart)', async () => {
    const second = newGateway();
    const secondUrl = (await second.start(0)).url;
    try {
      const send = async (body: unknown) =>
        (await fetch(`${secondUrl}/v1/models/${spec.name}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.both}` }, body: JSON.stringify(body) })).status;
      expect(await send({ requestId: 'single-1', label: 0 })).toBe(202);
      expect(await send({ requestId: 'single-1', label: 1 })).toBe(409);
      expect(await send({ requestId: 'batch-1/1', label: 0 })).toBe(409);
      expect(await send({ requestId: 'batch-1/1', label: 1 })).toBe(200);
      expect(await send({ requestId: 'nobody-sent-this', label: 1 })).toBe(404);
    } finally {
      await second.close();
    }
    expect((await getFeedback(db, spec.name, 'single-1'))?.label).toBe(0);
  });

  it('applies a deployment change within 1 second, and records it once however often it is sent', async () => {
    const started = Date.now();
    const { applied, deployment } = await applyDeploymentChange(db, {
      model: spec.name,
      changeKey: `${WORKFLOW_ID}/promote-v2`,
      reason: 'promote v2',
      workflowId: WORKFLOW_ID,
      set: { championVersionId: versions[1]!.id },
    });
    expect(applied).toBe(true);
    let version = 1;
    while (version !== 2 && Date.now() - started < 3_000) {
      version = (await post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(0) })).body.version as number;
    }
    const elapsed = Date.now() - started;
    expect(version).toBe(2);
    expect(elapsed).toBeLessThan(1_000);

    const again = await applyDeploymentChange(db, { model: spec.name, changeKey: `${WORKFLOW_ID}/promote-v2`, reason: 'promote v2', workflowId: WORKFLOW_ID, set: { championVersionId: versions[0]!.id } });
    expect(again.applied).toBe(false);
    expect(again.deployment.revision).toBe(deployment.revision);
    const changes = await listDeploymentChanges(db, spec.name);
    expect(changes.filter((c) => c.changeKey === `${WORKFLOW_ID}/promote-v2`)).toHaveLength(1);
    expect(changes.at(-1)).toMatchObject({ before: { championVersionId: versions[0]!.id }, after: { championVersionId: versions[1]!.id }, reason: 'promote v2' });
    await expect(deploy({ canaryWeight: 1.5 })).rejects.toThrow(/canary weight must be between 0 and 1/);
  });

  it('routes a canary share by weight, sticky per routing key, and mirrors every request to the shadow', async () => {
    await deploy({ championVersionId: versions[0]!.id, canaryVersionId: versions[1]!.id, canaryWeight: 0.3, shadowVersionId: versions[2]!.id });
    await servedRevision();
    const since = new Date();
    const byKey = new Map<string, number>();
    const requestIds: string[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `user-${i % 50}`;
      const requestId = `canary-${i}`;
      requestIds.push(requestId);
      const answer = await post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(i), requestId, routingKey: key });
      expect(answer.status).toBe(200);
      const version = answer.body.version as number;
      expect(answer.body.role).toBe(version === 2 ? 'canary' : 'champion');
      if (byKey.has(key)) expect(version, key).toBe(byKey.get(key));
      byKey.set(key, version);
    }
    const canaryKeys = [...byKey.values()].filter((v) => v === 2).length;
    expect(canaryKeys).toBeGreaterThan(3);
    expect(canaryKeys).toBeLessThan(30);

    await expect.poll(async () => (await listPredictions(db, { model: spec.name, requestIds })).length).toBe(400);
    const rows = await listPredictions(db, { model: spec.name, requestIds });
    const shadowRows = rows.filter((r) => r.role === 'shadow');
    expect(shadowRows).toHaveLength(200);
    expect(shadowRows.every((r) => r.modelVersionId === versions[2]!.id && r.error === null)).toBe(true);
    // Features are stored once per request, on its serving row.
    expect(shadowRows.every((r) => r.features === null)).toBe(true);
    expect(rows.filter((r) => r.role !== 'shadow').every((r) => r.features !== null)).toBe(true);
    const paired = await pairedShadowPredictions(db, { model: spec.name, shadowVersionId: versions[2]!.id, since });
    expect(paired.length).toBe(rows.filter((r) => r.role === 'champion').length);
    expect(paired.every((p) => p.championProbability !== null && p.shadowProbability !== null && p.championVersionId === versions[0]!.id)).toBe(true);
    const stats = await predictionStats(db, { model: spec.name, versionId: versions[1]!.id, role: 'canary', since });
    expect(stats.requests).toBe(rows.filter((r) => r.role === 'canary').length);
    expect(stats.errors).toBe(0);
    expect(stats.latencyP99!).toBeGreaterThanOrEqual(stats.latencyP50!);
  });

  it('keeps serving the previous routing when a version cannot be loaded, and says so in readyz', async () => {
    expect((await get('/readyz')).status).toBe(200);
    const tampered = await registerVersion(db, { spec, artifact: { artifactKey: versions[0]!.artifactKey, artifactSha256: '0'.repeat(64), artifactSize: versions[0]!.artifactSize }, fingerprint: 'tampered', registeredBy: 'the gateway test', workflowId: WORKFLOW_ID });
    await deploy({ shadowVersionId: tampered.id }, 'a shadow whose checksum does not match');
    await expect.poll(async () => (await get('/readyz')).status, { timeout: 5_000, interval: 20 }).toBe(503);
    const readiness = (await get('/readyz')).body as { models: { model: string; error: string; revision: number }[] };
    expect(readiness.models[0]!.error).toMatch(/checksum|sha256/i);
    const answer = await post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(0), routingKey: 'user-1' });
    expect(answer.status).toBe(200);
    await deploy({ shadowVersionId: null }, 'remove the broken shadow');
    await expect.poll(async () => (await get('/readyz')).status, { timeout: 5_000, interval: 20 }).toBe(200);
    expect((await get('/healthz')).body).toEqual({ status: 'ok' });
  });

  /** Kills the gateway's connections with this application name, as a Postgres restart or a network cut would; returns how many. */
  async function terminateConnections(applicationName: string): Promise<number> {
    const { rows } = await sql<{ terminated: boolean }>`
      select pg_terminate_backend(pid) as terminated from pg_stat_activity
      where application_name = ${applicationName} and datname = current_database()
    `.execute(db);
    return rows.filter((r) => r.terminated).length;
  }

  it('logs every prediction after its prediction-log connection is killed', async () => {
    expect(await terminateConnections('retrain-gateway-prediction-log')).toBe(1);
    const requestIds = Array.from({ length: 20 }, (_, i) => `after-kill-${i}`);
    for (const [i, requestId] of requestIds.entries()) {
      expect((await post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(i), requestId })).status).toBe(200);
    }
    await expect
      .poll(async () => (await listPredictions(db, { model: spec.name, requestIds })).filter((r) => r.role !== 'shadow').length, { timeout: 5_000 })
      .toBe(requestIds.length);
  });

  it('follows changes again after its LISTEN connection is killed', async () => {
    expect(await terminateConnections('retrain-gateway-listener')).toBe(1);
    await deploy({ canaryWeight: 0 }, 'canary off while the listener reconnects');
    await servedRevision();
    const started = Date.now();
    await deploy({ canaryVersionId: null, championVersionId: versions[2]!.id }, 'v3 champion');
    await servedRevision();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await post(`/v1/models/${spec.name}/predict`, { instance: instanceAt(0) })).body.version).toBe(3);
  });

  it('under continuous load, swaps champion, canary and shadow with zero failed requests and every request logged', async () => {
    await deploy({ championVersionId: versions[0]!.id, canaryVersionId: null, canaryWeight: 0, shadowVersionId: null }, 'load test start');
    await servedRevision();
    const sent: string[] = [];
    const failures: string[] = [];
    const versionsSeen = new Set<string>();
    let running = true;
    const loops = Array.from({ length: 20 }, async (_, worker) => {
      for (let i = 0; running; i++) {
        const requestId = `load-${worker}-${i}`;
        sent.push(requestId);
        const body = i % 5 === 0 ? { instances: [instanceAt(i), instanceAt(i + 1)], requestId } : { instance: instanceAt(i), requestId, routingKey: `user-${(worker * 31 + i) % 97}` };
        try {
          const answer = await post(`/v1/models/${spec.name}/predict`, body);
          if (answer.status !== 200) failures.push(`${requestId}: ${answer.status} ${JSON.stringify(answer.body)}`);
          else versionsSeen.add(`${answer.body.role}:v${answer.body.version}`);
        } catch (err) {
          failures.push(`${requestId}: ${(err as Error).message}`);
        }
      }
    });
    const changes = (async () => {
      const steps: Partial<DeploymentTraffic>[] = [
        { shadowVersionId: versions[2]!.id },
        { canaryVersionId: versions[1]!.id, canaryWeight: 0.25 },
        { canaryWeight: 0.5 },
        { championVersionId: versions[1]!.id, canaryVersionId: versions[2]!.id, canaryWeight: 0.1, shadowVersionId: versions[0]!.id },
        { championVersionId: versions[2]!.id, canaryVersionId: null, canaryWeight: 0, shadowVersionId: null },
      ];
      for (const set of steps) {
        await sleep(700);
        await deploy(set, 'load test step');
      }
      await sleep(700);
    })();
    await changes;
    running = false;
    await Promise.all(loops);

    expect(failures).toEqual([]);
    expect(sent.length).toBeGreaterThan(500);
    expect([...versionsSeen].sort()).toEqual(['canary:v2', 'canary:v3', 'champion:v1', 'champion:v2', 'champion:v3']);
    const itemIds = new Set<string>();
    // Batch requests are logged per item.
    for (const id of sent) {
      const [, , i] = id.split('-');
      if (Number(i) % 5 === 0) {
        itemIds.add(`${id}/0`);
        itemIds.add(`${id}/1`);
      } else itemIds.add(id);
    }
    await expect
      .poll(async () => (await listPredictions(db, { model: spec.name, requestIds: [...itemIds] })).filter((r) => r.role !== 'shadow').length, { timeout: 10_000 })
      .toBe(itemIds.size);
    const served = (await listPredictions(db, { model: spec.name, requestIds: [...itemIds] })).filter((r) => r.role !== 'shadow');
    expect(new Set(served.map((r) => r.requestId))).toEqual(itemIds);
    expect(served.every((r) => r.error === null)).toBe(true);
    const shadowed = (await listPredictions(db, { model: spec.name, requestIds: [...itemIds] })).filter((r) => r.role === 'shadow');
    expect(new Set(shadowed.map((r) => r.modelVersionId))).toEqual(new Set([versions[2]!.id, versions[0]!.id]));
    const metrics = (await get('/metrics')).body.text as string;
    expect(metrics).toMatch(new RegExp(`retrain_gateway_model_swaps_total\\{model="${spec.name}"\\} \\d+`));
    expect(metrics).toMatch(/retrain_gateway_prediction_log_queue_rows \d+/);
  });
});

/** A new, empty database on the test server (for migration tests), named `<prefix>_<random>`. */
async function createEmptyDatabase(prefix: string): Promise<Kysely<Database>> {
  const services = inject('services');
  const name = `${prefix}_${randomBytes(3).toString('hex')}`;
  const admin = createDatabase(services.databaseUrl, 1);
  await sql.raw(`create database ${name}`).execute(admin);
  await admin.destroy();
  const url = new URL(services.databaseUrl);
  url.pathname = `/${name}`;
  return createDatabase(url.toString(), 1);
}

describe('migration 2026-11-26-0004-serving', () => {
  it('gives every existing champion a deployment, and its down step removes the serving tables', async () => {
    const db = await createEmptyDatabase('retrain_gateway_migration');
    // Every migration; the test steps to the one before the one it checks, then to that one.
    const migrator = createMigrator(db);
    try {
      expect((await migrator.migrateTo('2026-11-26-0003-prediction-batches')).error).toBeUndefined();
      const spec = { ...loadModelSpec(SPEC_FILE), name: 'legacy-model' };
      await upsertModel(db, spec, 'migration-test');
      const champion = await db.transaction().execute(async (trx) => {
        const { run } = await insertTrainingRun(trx, {
          model: spec.name, fingerprint: 'f', datasetIds: [], trainer: {}, mode: 'from_scratch', modeReason: '', metrics: {},
          durationMs: 0, windowDay: null, baseVersionId: null, context: null, logsKey: null, workflowId: 'migration-test',
        });
        // A version as the schema of 0003 holds it (insertModelVersion writes today's columns).
        const { rows } = await sql<{ id: string }>`
          insert into model_versions (model, version, training_run_id, artifact_key, artifact_sha256, artifact_size, stage, workflow_id)
          values (${spec.name}, 1, ${run.id}, 'k', 's', 1, 'candidate', 'migration-test') returning id::text as id
        `.execute(trx);
        return rows[0]!;
      });
      await db.updateTable('model_versions').set({ stage: 'champion' }).where('id', '=', champion.id).execute();

      expect((await migrator.migrateTo('2026-11-26-0004-serving')).error).toBeUndefined();
      expect(await getDeployment(db, spec.name)).toMatchObject({ championVersionId: champion.id, canaryVersionId: null, canaryWeight: 0, shadowVersionId: null, revision: 0 });

      expect((await migrator.migrateDown()).error).toBeUndefined();
      const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
      expect(tables.rows.map((r) => r.table_name)).not.toContain('deployments');
      expect(tables.rows.map((r) => r.table_name)).not.toContain('predictions');
    } finally {
      await db.destroy();
    }
  });
});

describe('migration 2026-11-26-0006-shadow-rows-without-features', () => {
  it('lets shadow rows only go without features, and its down step gives them the serving row\'s', async () => {
    const db = await createEmptyDatabase('retrain_shadow_rows_migration');
    try {
      await migrateToLatest(db);
      const row = { model: 'm', model_version_id: '1', probability: 0.5, predicted_label: 1, latency_ms: 0.1, error: null, routing_key: null };
      await db.insertInto('predictions').values([
        { ...row, request_id: 'r1', role: 'champion', features: JSON.stringify({ x: 1 }) },
        { ...row, request_id: 'r1', role: 'shadow', model_version_id: '2', features: null },
      ]).execute();
      await expect(db.insertInto('predictions').values({ ...row, request_id: 'r2', role: 'champion', features: null }).execute()).rejects.toThrow(/predictions_features_present/);

      await shadowRowsWithoutFeatures.down(db as Kysely<unknown>);
      const restored = await db.selectFrom('predictions').select(['role', 'features']).orderBy('id').execute();
      expect(restored).toEqual([{ role: 'champion', features: { x: 1 } }, { role: 'shadow', features: { x: 1 } }]);
      await shadowRowsWithoutFeatures.up(db as Kysely<unknown>);
    } finally {
      await db.destroy();
    }
  });
});

describe('migration 2026-12-01-0101-unique-served-request-ids', () => {
  it('marks all but the first served row of a repeated id as failed, then holds one served row per id', async () => {
    const db = await createEmptyDatabase('retrain_served_ids_migration');
    // Every migration; the test steps to the one before the one it checks, then to that one.
    const migrator = createMigrator(db);
    try {
      expect((await migrator.migrateTo('2026-11-26-0006-shadow-rows-without-features')).error).toBeUndefined();
      const row = { model: 'm', model_version_id: '1', probability: 0.5, predicted_label: 1, latency_ms: 0.1, routing_key: null, features: JSON.stringify({ x: 1 }) };
      await db.insertInto('predictions').values([
        { ...row, request_id: 'r1', role: 'champion', error: null },
        { ...row, request_id: 'r1', role: 'canary', model_version_id: '2', error: null },
        { ...row, request_id: 'r1', role: 'champion', error: null },
        { ...row, request_id: 'r1', role: 'shadow', features: null, error: null },
        { ...row, request_id: 'r2', role: 'canary', error: 'v2 broke' },
        { ...row, request_id: 'r2', role: 'champion', error: null },
      ]).execute();
      expect((await migrator.migrateTo('2026-12-01-0101-unique-served-request-ids')).error).toBeUndefined();
      const rows = await db.selectFrom('predictions').select(['request_id', 'role', 'error']).orderBy('id').execute();
      const marked = 'request id served earlier (marked by migration 2026-12-01-0101-unique-served-request-ids)';
      expect(rows).toEqual([
        { request_id: 'r1', role: 'champion', error: null },
        { request_id: 'r1', role: 'canary', error: marked },
        { request_id: 'r1', role: 'champion', error: marked },
        { request_id: 'r1', role: 'shadow', error: null },
        { request_id: 'r2', role: 'canary', error: 'v2 broke' },
        { request_id: 'r2', role: 'champion', error: null },
      ]);
      await expect(db.insertInto('predictions').values({ ...row, request_id: 'r2', role: 'canary', error: null }).execute()).rejects.toThrow(/predictions_served_request_unique/);
      // Failed and shadow rows may repeat an id.
      await db.insertInto('predictions').values([{ ...row, request_id: 'r2', role: 'canary', error: 'again' }, { ...row, request_id: 'r2', role: 'shadow', features: null, error: null }]).execute();
      expect((await migrator.migrateDown()).error).toBeUndefined();
      await db.insertInto('predictions').values({ ...row, request_id: 'r2', role: 'canary', error: null }).execute();
    } finally {
      await db.destroy();
    }
  });
});
