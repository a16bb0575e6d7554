import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { createMigrator } from '../../lib/db/migrate';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { getDeployment } from '../../lib/db/repositories/deployments';
import { getModelVersion, listModelVersions } from '../../lib/db/repositories/model-versions';
import { getModelSpec } from '../../lib/db/repositories/models';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { labelledRequestsFromDay } from '../../lib/traffic/labelled-traffic';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineInput, type RetrainingPipelineResult } from '../../workflows/definitions';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { NO_GATES } from '../fixtures/live-promotion-spec';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';
import { createEmptyDatabase } from '../fixtures/test-database';

const ROOT = path.join(__dirname, '..', '..');

/**
 * What the gateway validates requests against is the serving version's own contract, written when
 * it was registered: a run started with a changed spec (refused, or admitted as a breaking change
 * and failed) leaves the champion's answers and /readyz as they were, also after a gateway restart.
 */
describe('a version serves under its own contract, whatever later specs say', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let gateway: Gateway;
  let url: string;
  let instance: Record<string, number | string>;
  let baseline: unknown;
  let sequence = 0;

  /** The answer to one request, without its request id (a new one each time). */
  async function predict(body: Record<string, unknown>): Promise<{ status: number; answer: Record<string, unknown> }> {
    const response = await fetch(`${url}/v1/models/${spec.name}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: `contract-${++sequence}`, ...body }),
    });
    const { requestId: _id, ...answer } = (await response.json()) as Record<string, unknown>;
    return { status: response.status, answer };
  }

  async function readyz(): Promise<number> {
    return (await fetch(`${url}/readyz`)).status;
  }

  const startGateway = () => createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth: { mode: 'open' }, log: pino({ level: 'silent' }) });

  /** A gateway that does not become ready within 10 s fails the test with its readiness report. */
  async function waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await readyz()) !== 200) {
      if (Date.now() > deadline) throw new Error(`the gateway is not ready: ${await (await fetch(`${url}/readyz`)).text()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function restartGateway(): Promise<void> {
    await gateway.close();
    gateway = startGateway();
    ({ url } = await gateway.start(0));
    await waitUntilReady();
  }

  /** The champion still answers the same request with the same answer, and the gateway is ready, before and after a restart. */
  async function expectChampionUnchanged(): Promise<void> {
    expect(await readyz()).toBe(200);
    expect(await predict({ instance })).toEqual({ status: 200, answer: baseline });
    await restartGateway();
    expect(await predict({ instance })).toEqual({ status: 200, answer: baseline });
  }

  async function failureOf(input: RetrainingPipelineInput): Promise<ApplicationFailure> {
    const err = await harness
      .withWorkers(() => harness.client.workflow.execute(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(input.spec.name, input.day), args: [input] }))
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    expect(activity?.cause).toBeInstanceOf(ApplicationFailure);
    return activity!.cause as ApplicationFailure;
  }

  /** Runs `retrain <args>` (bin/retrain.cjs, as a user would) with the workers running. */
  const retrain = (...args: string[]) => harness.withWorkers(() => harness.retrain(args));

  const withFeatures = (features: ModelSpec['features']): ModelSpec => ({ ...spec, features });
  const addedFeature = (): ModelSpec => withFeatures([...spec.features, { name: 'dep_minute', kind: 'numeric', sql: 'minute(date)' }]);
  const removedFeature = (): ModelSpec => withFeatures(spec.features.filter((f) => f.name !== 'weekday'));

  beforeAll(async () => {
    harness = await createPipelineHarness('contract-version');
    // The example's direct strategy: the offline gates alone decide, so a run promotes within seconds.
    const example = await flightDelayOnHarness(harness, { name: 'flight-delay-contract', days: { from: '2001-01-02', to: '2001-01-10' } });
    spec = { ...example, gates: NO_GATES };
    const first = await harness.runPipeline({ spec, day: '2001-01-09' });
    expect(first.decision).toBe('promote');
    instance = (await labelledRequestsFromDay(harness.deps, spec, '2001-01-09', 1))[0]!.instance;

    gateway = startGateway();
    ({ url } = await gateway.start(0));
    await waitUntilReady();
    const answer = await predict({ instance });
    expect(answer.status).toBe(200);
    expect(answer.answer).toMatchObject({ model: spec.name, version: 1, role: 'champion' });
    baseline = answer.answer;
  });

  afterAll(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it('stores the serving contract with the version when it is registered', async () => {
    const champion = await getModelVersion(harness.deps.db, (await getDeployment(harness.deps.db, spec.name))!.championVersionId!);
    expect(champion.contract).toEqual({
      features: spec.features.map((f) => ({ name: f.name, kind: f.kind })),
      inputs: spec.features.map((f) => ({ name: f.name, type: f.kind === 'numeric' ? 'float32' : 'string' })),
      classes: 2,
      decisionThreshold: 0.5,
      origin: 'registered',
    });
  });

  it('refuses a run whose spec adds a feature at its start, naming the feature, and the champion answers as before', async () => {
    const failure = await failureOf({ spec: addedFeature(), day: '2001-01-10' });
    expect(failure.type).toBe('BreakingSpecChange');
    expect(failure.message).toMatch(new RegExp(`^the spec of '${spec.name}' adds feature 'dep_minute' \\(numeric\\), which the serving champion v1's clients would have to change their requests for: refused`));
    expect(failure.message).toContain('--breaking-change');
    // Refused before it recorded anything: the stored spec is the champion run's.
    expect((await getModelSpec(harness.deps.db, spec.name))?.features.map((f) => f.name)).toEqual(spec.features.map((f) => f.name));
    await expectChampionUnchanged();
  });

  it('refuses a run whose spec removes a feature, naming it, and the champion answers as before', async () => {
    const failure = await failureOf({ spec: removedFeature(), day: '2001-01-10' });
    expect(failure.type).toBe('BreakingSpecChange');
    expect(failure.message).toContain("removes feature 'weekday' (numeric)");
    await expectChampionUnchanged();
  });

  it('a breaking change admitted with the flag that fails at ingest changes nothing the gateway validates', async () => {
    // No partitions exist for this window: the run passes its start (and records its spec) and fails at ingest.
    const failure = await failureOf({ spec: removedFeature(), day: '2001-02-20', breakingChange: true });
    expect(failure.type).toBe('PartitionNotFound');
    expect((await getModelSpec(harness.deps.db, spec.name))?.features.map((f) => f.name)).not.toContain('weekday');
    await expectChampionUnchanged();
  });

  it('retrain run refuses the breaking change, and with --breaking-change it goes ahead: the new champion serves under its own contract', async () => {
    const file = path.join(harness.services.workDir, `${spec.name}-added-feature.json`);
    await writeFile(file, JSON.stringify(addedFeature()));
    const refused = await retrain('run', '--spec', file, '--day', '2001-01-10');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the spec of '${spec.name}' adds feature 'dep_minute' (numeric)`);
    await expectChampionUnchanged();

    const accepted = await retrain('run', '--spec', file, '--day', '2001-01-10', '--breaking-change');
    expect(accepted.code, accepted.stderr).toBe(0);
    const versions = await listModelVersions(harness.deps.db, spec.name);
    expect(versions.map((v) => [v.version, v.stage])).toEqual([[1, 'archived'], [2, 'champion']]);
    expect(versions[1]!.contract.features.map((f) => f.name)).toContain('dep_minute');
    // v1 keeps the contract it was registered with.
    expect(versions[0]!.contract.features.map((f) => f.name)).not.toContain('dep_minute');

    await expect.poll(async () => (await predict({ instance: { ...instance, dep_minute: 5 } })).answer.version, { timeout: 10_000, interval: 50 }).toBe(2);
    const old = await predict({ instance });
    expect(old.status).toBe(400);
    expect(JSON.stringify(old.answer)).toContain("missing feature 'dep_minute'");
    expect(await readyz()).toBe(200);
  });

  it('a flagged breaking change that drops features the champion reads is evaluated without a comparison, and says why', async () => {
    // The champion (v2) reads dep_minute and weekday; this run computes neither, so v2 cannot be scored on its holdout table.
    const result = (await harness.withWorkers(() =>
      harness.client.workflow.execute(RETRAINING_PIPELINE, {
        taskQueue: harness.taskQueue,
        workflowId: retrainingPipelineId(spec.name, '2001-01-10'),
        args: [{ spec: removedFeature(), day: '2001-01-10', breakingChange: true }],
      }),
    )) as RetrainingPipelineResult;
    expect(result.metrics.championVersion).toBeNull();
    expect(result.evaluation.comparison?.note).toMatch(/v2 reads 'weekday', 'dep_minute', which this run's features do not compute as it does: compared with no model, absolute gates only/);
  });
});

describe('migration 2026-12-01-0201-version-serving-contracts', () => {
  it("gives every existing version a contract from its model's spec, features in order, and its down step removes it", async () => {
    const services = inject('services');
    const { db } = await createEmptyDatabase(services.databaseUrl, 'retrain_contract_migration', 1);
    // Every migration; the test steps to the one before the one it checks, then to that one.
    const migrator = createMigrator(db);
    try {
      expect((await migrator.migrateTo('2026-11-26-0006-shadow-rows-without-features')).error).toBeUndefined();
      const spec = { ...loadModelSpec(path.join(ROOT, 'examples', 'flight-delay', 'model.json')), name: 'legacy-model' };
      await sql`insert into models (name, spec, workflow_id) values (${spec.name}, ${JSON.stringify(spec)}, 'migration-test')`.execute(db);
      const { rows: runs } = await sql<{ id: string }>`
        insert into training_runs (model, fingerprint, dataset_ids, trainer, mode, mode_reason, metrics, duration_ms, workflow_id)
        values (${spec.name}, 'f', '{}', '{}', 'from_scratch', '', '{}', 0, 'migration-test') returning id::text as id
      `.execute(db);
      await sql`
        insert into model_versions (model, version, training_run_id, artifact_key, artifact_sha256, artifact_size, stage, workflow_id)
        values (${spec.name}, 1, ${runs[0]!.id}, 'k', 's', 1, 'champion', 'migration-test')
      `.execute(db);

      expect((await migrator.migrateTo('2026-12-01-0201-version-serving-contracts')).error).toBeUndefined();
      const [version] = await listModelVersions(db, spec.name);
      expect(version!.contract).toEqual({
        features: spec.features.map((f) => ({ name: f.name, kind: f.kind })),
        inputs: null,
        classes: null,
        decisionThreshold: 0.5,
        origin: 'backfilled',
      });
      await expect(sql`insert into model_versions (model, version, training_run_id, artifact_key, artifact_sha256, artifact_size, stage, workflow_id) values (${spec.name}, 2, ${runs[0]!.id}, 'k2', 's2', 1, 'candidate', 'migration-test')`.execute(db)).rejects.toThrow(/contract/);

      expect((await migrator.migrateDown()).error).toBeUndefined();
      const columns = await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'model_versions'`.execute(db);
      expect(columns.rows.map((r) => r.column_name)).not.toContain('contract');
      expect((await migrator.migrateTo('2026-12-01-0201-version-serving-contracts')).error).toBeUndefined();
    } finally {
      await db.destroy();
    }
  });
});
