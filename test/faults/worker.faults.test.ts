import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setApproverPolicy } from '../../lib/db/repositories/approver-policies';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import { listTrainingRuns } from '../../lib/db/repositories/training-runs';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { labelledRequestsFromDay, startLabelledTraffic } from '../../lib/traffic/labelled-traffic';
import { approvePromotionUpdate, type RetrainingPipelineResult } from '../../workflows/definitions';
import { expectDeploymentAgreesWithRegistry, expectOneSnapshotPerPartition } from './fault-checks';
import { listLoggedRequestIds, waitForCheckpointedEpoch, waitForStage } from './fault-observations';
import { say, type FaultStack, type RetrainProcess } from './fault-stack';
import { runDays, startFlightDelayFaultStack, startRun } from './flight-delay-fixture';
import { fastSafePromotion } from '../fixtures/live-promotion-spec';

/** SIGKILL to the worker's whole process group, the way a machine dies, then a new worker process. */
async function replaceWorker(stack: FaultStack, worker: RetrainProcess, name: string, when: string): Promise<RetrainProcess> {
  say(`injected: SIGKILL to ${worker.name} ${when}`);
  await worker.kill();
  const next = await stack.startWorker(name);
  say(`started ${name}`);
  return next;
}

describe('worker killed mid-run', () => {
  let stack: FaultStack;
  let spec: ModelSpec;
  let worker: RetrainProcess;

  beforeAll(async () => {
    ({ stack, spec, worker } = await startFlightDelayFaultStack('worker', 'flight-delay-worker', { from: '2001-01-05', to: '2001-01-14' }));
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('during ingest: the run completes with one snapshot per partition and one version', async () => {
    const day = '2001-01-08';
    const handle = await startRun(stack, spec, day);
    await waitForStage(handle, 'ingest');
    worker = await replaceWorker(stack, worker, 'worker-2', 'while it ingests');
    const result = (await handle.result()) as RetrainingPipelineResult;
    say(`run ${handle.workflowId}: ${result.decision} v${result.version.version}`);
    expect(result.decision).toBe('promote');
    expect(await listModelVersions(stack.db, spec.name)).toHaveLength(1);
    await expectOneSnapshotPerPartition(stack, spec.name, runDays(day, spec.training.windowPartitions));
    await expectDeploymentAgreesWithRegistry(stack, spec.name);
  });

  it('during training: the retry resumes from its checkpoint and one version is registered', async () => {
    const day = '2001-01-09';
    const trainer = spec.training.trainer;
    if (trainer.kind !== 'builtin') throw new Error('the example uses the built-in trainer');
    // An MLP with enough epochs to be caught mid-way.
    const slow: ModelSpec = { ...spec, training: { ...spec.training, trainer: { ...trainer, algorithm: 'mlp', hiddenUnits: 32, epochs: 60 } } };
    const runsBefore = (await listTrainingRuns(stack.db, spec.name)).length;
    const versionsBefore = (await listModelVersions(stack.db, spec.name)).length;
    const handle = await startRun(stack, slow, day);
    const epoch = await waitForCheckpointedEpoch(handle, 2);
    worker = await replaceWorker(stack, worker, 'worker-3', `while it trains (checkpoint at epoch ${epoch} of 60)`);
    const result = (await handle.result()) as RetrainingPipelineResult;
    say(`run ${handle.workflowId}: ${result.decision} v${result.version.version}, resumed from epoch ${result.training.resumedFromEpoch}`);
    expect(result.training.resumedFromEpoch).toBeGreaterThanOrEqual(epoch);
    expect((await listTrainingRuns(stack.db, spec.name)).length).toBe(runsBefore + 1);
    expect((await listModelVersions(stack.db, spec.name)).length).toBe(versionsBefore + 1);
    await expectOneSnapshotPerPartition(stack, spec.name, runDays(day, spec.training.windowPartitions));
    await expectDeploymentAgreesWithRegistry(stack, spec.name);
  });

  it('during the shadow and during the canary: the live promotion completes, and the gateway serves throughout with every request logged', async () => {
    const gateway = await stack.startGateway('gateway-1');
    const live: ModelSpec = {
      ...spec,
      promotion: fastSafePromotion({ approvers: ['alice'], shadow: { minRequests: 400 }, canary: { bakeSeconds: 8 } }),
    };
    await setApproverPolicy(stack.db, { model: spec.name, approvers: ['alice'], changedBy: 'fault test', reason: 'the approver of the fault test' });
    const requests = await labelledRequestsFromDay({ db: stack.db, store: stack.store, workDir: stack.dir }, spec, '2001-01-09', 2000);
    const traffic = startLabelledTraffic({ url: gateway.url, apiKey: gateway.apiKey, model: spec.name, requests, concurrency: 3, prefix: 'live', keepRequestIds: true });
    const versionsBefore = (await listModelVersions(stack.db, spec.name)).length;

    const handle = await startRun(stack, live, '2001-01-12');
    await waitForStage(handle, 'shadow', 180_000);
    worker = await replaceWorker(stack, worker, 'worker-4', 'during the shadow');
    await waitForStage(handle, 'awaiting-approval', 180_000);
    await handle.executeUpdate(approvePromotionUpdate, { args: [{ approver: 'alice', reason: 'fault test' }] });
    await waitForStage(handle, 'canary', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    worker = await replaceWorker(stack, worker, 'worker-5', 'during the canary');
    const result = (await handle.result()) as RetrainingPipelineResult;
    const report = await traffic.stop();
    say(`run ${handle.workflowId}: ${result.decision}: ${result.reason}`);

    expect(result.decision, result.reason).toBe('promote');
    expect(result.live?.canary?.outcome).toBe('promoted');
    expect((await listModelVersions(stack.db, spec.name)).length).toBe(versionsBefore + 1);
    await expectDeploymentAgreesWithRegistry(stack, spec.name);
    expect(report.failures).toEqual([]);
    await expect
      .poll(async () => {
        const logged = new Set(await listLoggedRequestIds(stack.db, spec.name, 'live'));
        return report.requestIds.filter((id) => !logged.has(id)).length;
      }, { timeout: 15_000 })
      .toBe(0);
    say(`checked: ${report.sent} requests during the promotion, 0 failed, every answered one logged (${path.basename(gateway.url)})`);
    await gateway.process.stop();
  });
});
