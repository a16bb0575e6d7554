import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import type { ModelSpec } from '../../lib/spec/model-spec';
import type { RetrainingPipelineResult } from '../../workflows/definitions';
import { expectDeploymentAgreesWithRegistry, expectOneSnapshotPerPartition } from './fault-checks';
import { listLoggedRequestIds, waitForStage } from './fault-observations';
import { say, type FaultStack, type RetrainProcess } from './fault-stack';
import { runDays, runToEnd, startFlightDelayFaultStack, startRun } from './flight-delay-fixture';
import { sendPredictions } from './gateway-traffic';

describe('S3 and Temporal faults', () => {
  let stack: FaultStack;
  let spec: ModelSpec;
  let worker: RetrainProcess;
  let gateway: { process: RetrainProcess; url: string; apiKey: string };

  beforeAll(async () => {
    ({ stack, spec, worker } = await startFlightDelayFaultStack('s3-temporal', 'flight-delay-s3', { from: '2001-01-05', to: '2001-01-12' }));
    expect((await runToEnd(stack, spec, '2001-01-08')).decision).toBe('promote');
    gateway = await stack.startGateway('gateway-1');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('a run survives S3 being down for 30 s, and the gateway serves its loaded champion throughout', async () => {
    const day = '2001-01-10';
    const before = (await listModelVersions(stack.db, spec.name)).length;
    const handle = await startRun(stack, spec, day);
    await waitForStage(handle, 'ingest');
    say('injected: the S3 server stopped while the run ingests');
    await stack.s3Server.stop();
    const outageStarted = Date.now();
    const during: string[] = [];
    let sent = 0;
    while (Date.now() - outageStarted < 30_000) {
      const batch = await sendPredictions(gateway, spec, `s3-down-${sent}`, 20);
      during.push(...batch.failed);
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    say(`injected: the S3 server started again after ${((Date.now() - outageStarted) / 1000).toFixed(0)} s`);
    await stack.s3Server.start();

    const result = (await handle.result()) as RetrainingPipelineResult;
    say(`run ${handle.workflowId}: ${result.decision} v${result.version.version}`);
    expect(during, 'predictions while S3 was down').toEqual([]);
    let logged = 0;
    for (let i = 0; i < sent; i++) logged += (await listLoggedRequestIds(stack.db, spec.name, `s3-down-${i}`)).length;
    expect(logged).toBe(sent * 20);
    say(`checked: ${sent * 20} predictions answered and logged during the outage`);
    expect((await listModelVersions(stack.db, spec.name)).length).toBe(before + 1);
    await expectOneSnapshotPerPartition(stack, spec.name, runDays(day, spec.training.windowPartitions));
    await expectDeploymentAgreesWithRegistry(stack, spec.name);
  });

  it('a run survives the Temporal server restarting mid-run (its state persisted)', async () => {
    const day = '2001-01-12';
    const before = (await listModelVersions(stack.db, spec.name)).length;
    const handle = await startRun(stack, spec, day);
    await waitForStage(handle, 'train');
    say('injected: the Temporal server stopped while the run trains');
    await stack.temporal.stop();
    const during = await sendPredictions(gateway, spec, 'temporal-down', 50);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    say('injected: the Temporal server started again on its SQLite file after 3 s');
    await stack.temporal.start();

    const result = (await handle.result()) as RetrainingPipelineResult;
    say(`run ${handle.workflowId}: ${result.decision} v${result.version.version}`);
    expect(during.failed).toEqual([]);
    expect(worker.isRunning(), worker.output()).toBe(true);
    expect((await listModelVersions(stack.db, spec.name)).length).toBe(before + 1);
    await expectOneSnapshotPerPartition(stack, spec.name, runDays(day, spec.training.windowPartitions));
    await expectDeploymentAgreesWithRegistry(stack, spec.name);
  });
});
