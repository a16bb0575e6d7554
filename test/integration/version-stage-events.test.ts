import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { createMigrator } from '../../lib/db/migrate';
import { upsertModel } from '../../lib/db/repositories/models';
import { getModelVersion, setVersionStage, type ModelVersion } from '../../lib/db/repositories/model-versions';
import { listStageEvents } from '../../lib/db/repositories/version-stage-events';
import { rejectCandidate } from '../../lib/promotion/candidate-rejection';
import { applyPromotionDecision } from '../../lib/promotion/offline-promotion';
import { crownChampion, rollbackCanary, setCanaryWeight, startShadow, stopShadow } from '../../lib/promotion/traffic-moves';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { registerVersion } from '../fixtures/registered-version';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';

const ROOT = path.join(__dirname, '..', '..');

// model_versions.stage_reason is overwritten at every stage change; version_stage_events keeps them all.
describe('the kept history of version stages (version_stage_events)', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let v1: ModelVersion;
  let v2: ModelVersion;
  let v3: ModelVersion;

  const register = (n: number) =>
    registerVersion(harness.deps.db, {
      spec,
      artifact: { artifactKey: `models/${spec.name}/${n}.onnx`, artifactSha256: String(n).repeat(64).slice(0, 64), artifactSize: 1 },
      fingerprint: `stage-events-${n}`,
      registeredBy: 'the stage history test',
      workflowId: `retrain/${spec.name}/day-${n}`,
    });

  /** [version, from, to, reason, workflow] of every event of the model, as the history holds them. */
  const history = async () => (await listStageEvents(harness.deps.db, spec.name)).map((e) => [e.version, e.fromStage, e.toStage, e.reason, e.workflowId]);

  beforeAll(async () => {
    harness = await createPipelineHarness('stage-events');
    spec = { ...loadModelSpec(path.join(ROOT, 'examples', 'flight-delay', 'model.json')), name: `stage-events-${harness.taskQueue.slice(-6)}` };
    await upsertModel(harness.deps.db, spec, 'test/stage-events');
    v1 = await register(1);
    v2 = await register(2);
    v3 = await register(3);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('appends every registration and stage change, with its reason and run, in the transaction that makes it', async () => {
    const db = harness.deps.db;
    const move = (version: ModelVersion, step: string, reason: string) => ({ versionId: version.id, workflowId: `retrain/${spec.name}/day-${version.version}`, step, reason });
    await crownChampion(db, move(v1, 'promote', 'all 11 gates passed: first champion'));
    await startShadow(db, move(v2, 'shadow-start', 'mirroring traffic to v2'));
    await stopShadow(db, { ...move(v2, 'shadow-stop', 'shadow passed: log loss not worse'), passed: true });
    await setCanaryWeight(db, { ...move(v2, 'canary-50%', 'canary stage 1 of 2: 50% of traffic'), weight: 0.5 });
    // A retried activity appends nothing: the same stage for the same reason is no change.
    await rollbackCanary(db, move(v2, 'rollback', 'canary failed: error rate 0.1 exceeds 0.0'));
    await rollbackCanary(db, move(v2, 'rollback', 'canary failed: error rate 0.1 exceeds 0.0'));
    await rejectCandidate(db, { versionId: v3.id, reason: 'rejected by bob: not today', workflowId: `retrain/${spec.name}/day-3` });
    await rejectCandidate(db, { versionId: v3.id, reason: 'rejected by bob: not today', workflowId: `retrain/${spec.name}/day-3` });

    const registered = (v: ModelVersion) => [v.version, null, 'candidate', `registered by training run ${v.trainingRunId}`, `retrain/${spec.name}/day-${v.version}`];
    const day = (n: number) => `retrain/${spec.name}/day-${n}`;
    expect(await history()).toEqual([
      registered(v1),
      [1, 'candidate', 'champion', 'all 11 gates passed: first champion', day(1)],
      registered(v2),
      [2, 'candidate', 'shadow', 'mirroring traffic to v2', day(2)],
      [2, 'shadow', 'candidate', 'shadow passed: log loss not worse', day(2)],
      [2, 'candidate', 'canary', 'canary stage 1 of 2: 50% of traffic', day(2)],
      [2, 'canary', 'rolled_back', 'canary failed: error rate 0.1 exceeds 0.0', day(2)],
      registered(v3),
      [3, 'candidate', 'rejected', 'rejected by bob: not today', day(3)],
    ]);
    // The version row says where it is now, as before.
    expect(await getModelVersion(db, v2.id)).toMatchObject({ stage: 'rolled_back', stageReason: 'canary failed: error rate 0.1 exceeds 0.0' });

    // A stage change whose transaction fails leaves no event (and no stage).
    const before = await history();
    await expect(
      db.transaction().execute(async (trx) => {
        await setVersionStage(trx, v2.id, 'archived', 'never committed', { workflowId: 'test/rolled-back' });
        throw new Error('the rest of the change failed');
      }),
    ).rejects.toThrow('the rest of the change failed');
    expect(await history()).toEqual(before);
    expect((await getModelVersion(db, v2.id)).stage).toBe('rolled_back');
  });

  it('is append-only: rows are never updated, deleted or truncated', async () => {
    const db = harness.deps.db;
    const appendOnly = /version_stage_events is append-only/;
    await expect(db.updateTable('version_stage_events').set({ reason: 'rewritten' }).where('model', '=', spec.name).execute()).rejects.toThrow(appendOnly);
    await expect(db.deleteFrom('version_stage_events').where('model', '=', spec.name).execute()).rejects.toThrow(appendOnly);
    await expect(sql`truncate version_stage_events`.execute(db)).rejects.toThrow(appendOnly);
  });

  it('keeps the offline decision of a direct promotion with its run', async () => {
    const db = harness.deps.db;
    const v4 = await register(4);
    const evaluation = await db
      .insertInto('evaluations')
      .values({ model_version_id: v4.id, kind: 'offline', dataset_id: await someDatasetId(), champion_version_id: v1.id, metrics: '{}', workflow_id: 'test' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await applyPromotionDecision(db, { versionId: v4.id, evaluationId: String(evaluation.id), decision: 'promote', reason: 'all 11 gates passed: candidate AUC 0.650', workflowId: `retrain/${spec.name}/day-4` });
    const events = (await history()).filter(([version]) => version === 1 || version === 4).slice(-3);
    expect(events).toEqual([
      [1, 'champion', 'archived', 'replaced by v4', `retrain/${spec.name}/day-4`],
      [4, null, 'candidate', `registered by training run ${v4.trainingRunId}`, `retrain/${spec.name}/day-4`],
      [4, 'candidate', 'champion', 'all 11 gates passed: candidate AUC 0.650', `retrain/${spec.name}/day-4`],
    ]);
  });

  it('retrain status lists the latest event of each stage per version, next to the current stage', async () => {
    const status = await harness.retrain(['status', '--model', spec.name]);
    expect(status.code, status.stderr).toBe(0);
    const section = status.stdout.slice(status.stdout.indexOf('stage history'));
    const rows = section.split('\n').filter((line) => /^v\d/.test(line));
    // v2 went candidate → shadow → candidate → canary → rolled_back: candidate is listed once, where it was last entered.
    expect(rows.filter((r) => r.startsWith('v2 ')).map((r) => r.split(/\s+/)[1])).toEqual(['shadow', 'candidate', 'canary', 'rolled_back']);
    expect(section).toContain('mirroring traffic to v2');
    expect(section).toContain('shadow passed: log loss not worse');
    expect(section).toContain('canary failed: error rate 0.1 exceeds 0.0');
    expect(section).toContain('rejected by bob: not today');
  });

  it('the migration gives every version registered before it one event: its stage and reason then', async () => {
    const db = harness.deps.db;
    const migrator = createMigrator(db);
    expect((await migrator.migrateTo('2026-12-01-0203-approval-refusal-counts')).error).toBeUndefined();
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const events = await listStageEvents(db, spec.name);
    expect(events.map((e) => [e.version, e.fromStage, e.toStage, e.reason, e.backfilled])).toEqual([
      [1, null, 'archived', 'replaced by v4', true],
      [2, null, 'rolled_back', 'canary failed: error rate 0.1 exceeds 0.0', true],
      [3, null, 'rejected', 'rejected by bob: not today', true],
      [4, null, 'champion', 'all 11 gates passed: candidate AUC 0.650', true],
    ]);
    const status = await harness.retrain(['status', '--model', spec.name]);
    expect(status.stdout).toContain('(the stage when the history began; earlier stages were not kept)');
  });

  /** A dataset row for the evaluation's foreign key. */
  async function someDatasetId(): Promise<string> {
    const row = await harness.deps.db
      .insertInto('datasets')
      .values({ model: spec.name, partition_day: '2001-01-10', source_hash: 'h', snapshot_key: 'k', snapshot_sha256: 's', size_bytes: '0', row_count: '0', column_stats: '{}', workflow_id: 'test' })
      .returning('id')
      .executeTakeFirstOrThrow();
    return String(row.id);
  }
});
