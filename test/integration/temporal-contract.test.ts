import path from 'node:path';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { CanarySpec, ShadowSpec, type ModelSpec } from '../../lib/spec/model-spec';
import { listApprovalEvents } from '../../lib/db/repositories/approvals';
import { getDeployment, listDeploymentChanges } from '../../lib/db/repositories/deployments';
import { getModelVersion, type ModelVersion } from '../../lib/db/repositories/model-versions';
import { upsertModel } from '../../lib/db/repositories/models';
import { crownChampion } from '../../lib/promotion/traffic-moves';
import {
  CANARY_ROLLOUT,
  RETRAINING_PIPELINE,
  rollbackUpdate,
  SHADOW_EVALUATION,
  type CanaryRolloutInput,
  type CanaryRolloutResult,
  type ShadowEvaluationInput,
} from '../../workflows/definitions';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';
import { registerVersion as registerTestVersion } from '../fixtures/registered-version';

const SPEC_FILE = path.join(__dirname, '..', '..', 'examples', 'flight-delay', 'model.json');
const SEED_WORKFLOW = 'temporal-contract-seed';
/** A version id that passes input validation but names no row. */
const MISSING_VERSION_ID = '987654321';

/**
 * The Temporal contract of the workflows, over real Temporal and Postgres, without training:
 * invalid input fails a run at once, a deterministic activity error fails it at once, and a
 * requested rollback leaves an approvals row. Versions are registered directly (no artifact is
 * ever loaded: no gateway runs here).
 */
describe('the Temporal contract: input validation, permanent failures, the rollback record', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let champion: ModelVersion;

  function registerVersion(fingerprint: string): Promise<ModelVersion> {
    const artifact = { artifactKey: `models/${spec.name}/${fingerprint}.onnx`, artifactSha256: fingerprint, artifactSize: 1 };
    return registerTestVersion(harness.deps.db, { spec, artifact, fingerprint, registeredBy: 'the temporal-contract test', workflowId: SEED_WORKFLOW });
  }

  /** Runs `body` with the workers and returns the error it rejected with, and after how many ms. */
  async function failureOf(body: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
    const started = Date.now();
    const err = await harness.withWorkers(() => body().then(() => undefined, (e: unknown) => e));
    return { err, ms: Date.now() - started };
  }

  beforeAll(async () => {
    harness = await createPipelineHarness('contract');
    spec = { ...loadModelSpec(SPEC_FILE), name: `flight-delay-contract-${harness.taskQueue.slice(-6)}` };
    await upsertModel(harness.deps.db, spec, SEED_WORKFLOW);
    champion = await registerVersion('champion');
    await crownChampion(harness.deps.db, { versionId: champion.id, workflowId: SEED_WORKFLOW, step: 'first-champion', reason: 'seeded by the test' });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('a requested rollback sends all traffic back to the champion and records who asked and why', async () => {
    const candidate = await registerVersion('candidate-rollback');
    const workflowId = `${spec.name}/rollback-requested/canary`;
    const input: CanaryRolloutInput = {
      model: spec.name,
      candidateVersionId: candidate.id,
      candidateVersion: candidate.version,
      championVersionId: champion.id,
      championVersion: champion.version,
      approvers: ['alice', 'bob'],
      // A stage that cannot pass (no traffic reaches a gateway here): the rollback arrives mid-stage.
      spec: CanarySpec.parse({ stages: [50, 100], bakeSeconds: 600, maxBakeSeconds: 1200, pollSeconds: 1 }),
    };
    const result = (await harness.withWorkers(async () => {
      const handle = await harness.client.workflow.start(CANARY_ROLLOUT, { taskQueue: harness.taskQueue, workflowId, args: [input] });
      const deadline = Date.now() + 30_000;
      while ((await getDeployment(harness.deps.db, spec.name))?.canaryWeight !== 0.5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await handle.executeUpdate(rollbackUpdate, { args: [{ approver: ' bob ', reason: 'pager went off' }] })).toEqual({ accepted: true, action: 'rollback', approver: 'bob' });
      return handle.result();
    })) as CanaryRolloutResult;
    await harness.recordHistory(workflowId, 'canary-rollout-rollback-requested');

    expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'rollback requested by bob: pager went off' });
    expect(result.stages.at(-1)).toMatchObject({ percent: 50, verdict: 'rollback' });
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion.id, canaryVersionId: null, canaryWeight: 0, updatedBy: 'bob' });
    expect((await getModelVersion(harness.deps.db, candidate.id)).stage).toBe('rolled_back');

    const approvals = await listApprovalEvents(harness.deps.db, workflowId);
    expect(approvals).toEqual([
      expect.objectContaining({ action: 'rollback', approver: 'bob', reason: 'pager went off', model: spec.name, modelVersionId: candidate.id, workflowId, eventKey: 'rollback' }),
    ]);
    expect(Date.now() - approvals[0]!.createdAt.getTime()).toBeLessThan(60_000);
    // A requested rollback is told apart from an automatic one by its change key (and the approvals row).
    const changes = await listDeploymentChanges(harness.deps.db, spec.name);
    expect(changes.at(-1)).toMatchObject({ changeKey: `${workflowId}/rollback-requested`, reason: 'rollback requested by bob: pager went off', workflowId });
  });

  it('a retrainingPipeline started with an invalid day fails at once with InvalidWorkflowInput naming the field', async () => {
    const workflowId = `retrain/${spec.name}/2001-13-45`;
    const { err, ms } = await failureOf(() => harness.client.workflow.execute(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId, args: [{ spec, day: '2001-13-45' }] }));
    await harness.recordHistory(workflowId, 'retraining-pipeline-invalid-day');
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidWorkflowInput');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect((cause as ApplicationFailure).message).toBe("invalid retrainingPipeline input: day: must be a date YYYY-MM-DD, got '2001-13-45'");
    expect(ms).toBeLessThan(10_000);
    process.stderr.write(`[temporal-contract] invalid day failed the run in ${ms} ms\n`);
  });

  it('a retrainingPipeline whose spec is invalid fails at once naming the spec field', async () => {
    const broken = { ...spec, training: { ...spec.training, windowPartitions: 0 } };
    const { err } = await failureOf(() =>
      harness.client.workflow.execute(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: `retrain/${spec.name}/bad-spec`, args: [{ spec: broken, day: '2001-01-09' }] }),
    );
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('InvalidWorkflowInput');
    expect(cause.message).toMatch(/^invalid retrainingPipeline input: spec\.training\.windowPartitions: .*got 0$/);
  });

  it('a shadow evaluation of a version that does not exist fails at once with the activity error', async () => {
    const input: ShadowEvaluationInput = {
      model: spec.name,
      candidateVersionId: MISSING_VERSION_ID,
      candidateVersion: 99,
      championVersionId: champion.id,
      championVersion: champion.version,
      holdoutDatasetId: '1',
      spec: ShadowSpec.parse({ pollSeconds: 1 }),
    };
    const { err, ms } = await failureOf(() =>
      harness.client.workflow.execute(SHADOW_EVALUATION, { taskQueue: harness.taskQueue, workflowId: `${spec.name}/missing-version/shadow`, args: [input] }),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (err as WorkflowFailedError).cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect((activityFailure as ActivityFailure).activityType).toBe('startShadow');
    const cause = (activityFailure as ActivityFailure).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('ModelVersionNotFound');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toBe(`model version ${MISSING_VERSION_ID} does not exist`);
    expect(ms).toBeLessThan(10_000);
    process.stderr.write(`[temporal-contract] missing shadow version failed the run in ${ms} ms\n`);
  });

  it('a canary of a version that does not exist fails at once and leaves the champion serving', async () => {
    const input: CanaryRolloutInput = {
      model: spec.name,
      candidateVersionId: MISSING_VERSION_ID,
      candidateVersion: 99,
      championVersionId: champion.id,
      championVersion: champion.version,
      approvers: ['alice'],
      spec: CanarySpec.parse({ stages: [50, 100], pollSeconds: 1 }),
    };
    const { err, ms } = await failureOf(() =>
      harness.client.workflow.execute(CANARY_ROLLOUT, { taskQueue: harness.taskQueue, workflowId: `${spec.name}/missing-version/canary`, args: [input] }),
    );
    const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('ModelVersionNotFound');
    expect(cause.message).toBe(`model version ${MISSING_VERSION_ID} does not exist`);
    expect(ms).toBeLessThan(10_000);
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion.id, canaryVersionId: null, canaryWeight: 0 });
  });

  it('a canary whose analysis fails for good sends the traffic back to the champion before the run fails', async () => {
    const candidate = await registerVersion('candidate-failed-analysis');
    const input: CanaryRolloutInput = {
      model: spec.name,
      candidateVersionId: candidate.id,
      candidateVersion: candidate.version,
      // Digits, so the input is valid, but beyond bigint: Postgres rejects the analysis query's value (SQLSTATE 22003).
      championVersionId: '99999999999999999999',
      championVersion: champion.version,
      approvers: ['alice'],
      spec: CanarySpec.parse({ stages: [50, 100], pollSeconds: 1 }),
    };
    const workflowId = `${spec.name}/failed-analysis/canary`;
    const { err, ms } = await failureOf(() => harness.client.workflow.execute(CANARY_ROLLOUT, { taskQueue: harness.taskQueue, workflowId, args: [input] }));
    await harness.recordHistory(workflowId, 'canary-rollout-failed-step');
    const activityFailure = (err as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure.activityType).toBe('observeCanaryStage');
    expect(activityFailure.cause).toMatchObject({ type: 'DatabaseRejectedInput', nonRetryable: true, message: expect.stringMatching(/out of range for type bigint.*\(SQLSTATE 22003\)$/) });
    expect(ms).toBeLessThan(10_000);
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion.id, canaryVersionId: null, canaryWeight: 0 });
    expect((await getModelVersion(harness.deps.db, candidate.id)).stage).toBe('rolled_back');
    expect((await listDeploymentChanges(harness.deps.db, spec.name)).at(-1)).toMatchObject({ changeKey: `${workflowId}/rollback`, reason: expect.stringMatching(/^canary step failed: .*out of range for type bigint/) });
    // Automatic: nobody asked, so no approvals row.
    expect(await listApprovalEvents(harness.deps.db, workflowId)).toEqual([]);
  });

  it('a canary started with an invalid version id fails at once naming the field', async () => {
    const input = {
      model: spec.name,
      candidateVersionId: 'v2',
      candidateVersion: 2,
      championVersionId: champion.id,
      championVersion: champion.version,
      approvers: ['alice'],
      spec: CanarySpec.parse({}),
    };
    const { err } = await failureOf(() =>
      harness.client.workflow.execute(CANARY_ROLLOUT, { taskQueue: harness.taskQueue, workflowId: `${spec.name}/invalid-id/canary`, args: [input] }),
    );
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('InvalidWorkflowInput');
    expect(cause.message).toBe("invalid canaryRollout input: candidateVersionId: must be a model version id (digits), got 'v2'");
  });
});
