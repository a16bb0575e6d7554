import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import { listLoggedRequestIds, waitForStage } from './fault-observations';
import { expectDeploymentAgreesWithRegistry, expectOneSnapshotPerPartition } from './fault-checks';
import { say, type FaultStack, type RetrainProcess } from './fault-stack';
import { runDays, runToEnd, startFlightDelayFaultStack, startRun } from './flight-delay-fixture';
import type { ModelSpec } from '../../lib/spec/model-spec';
import type { RetrainingPipelineResult } from '../../workflows/definitions';
import { predictOnce, sendPredictions } from './gateway-traffic';

describe('Postgres faults', () => {
  let stack: FaultStack;
  let spec: ModelSpec;
  let worker: RetrainProcess;
  let gateway: { process: RetrainProcess; url: string; apiKey: string };

  beforeAll(async () => {
    ({ stack, spec, worker } = await startFlightDelayFaultStack('postgres', 'flight-delay-pg', { from: '2001-01-05', to: '2001-01-12' }));
    const first = await runToEnd(stack, spec, '2001-01-08');
    expect(first.decision).toBe('promote');
    gateway = await stack.startGateway('gateway-1');
    expect((await predictOnce(gateway, spec, 'warm-up')).status).toBe(200);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('a dropped connection kills neither the worker nor the gateway', async () => {
    const terminated = await sql<{ n: string }>`
      select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity
      where application_name like 'retrain-%' and pid <> pg_backend_pid()`.execute(stack.db);
    const n = Number(terminated.rows[0]?.n ?? 0);
    say(`injected: pg_terminate_backend on ${n} connections of the worker and the gateway`);
    expect(n).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(worker.isRunning(), worker.output()).toBe(true);
    expect(gateway.process.isRunning(), gateway.process.output()).toBe(true);

    const sent = await sendPredictions(gateway, spec, 'after-terminate', 50);
    expect(sent.failed).toEqual([]);
    await expect.poll(async () => (await listLoggedRequestIds(stack.db, spec.name, 'after-terminate')).length, { timeout: 10_000 }).toBe(50);
    const next = await runToEnd(stack, spec, '2001-01-09');
    expect(['promote', 'reject']).toContain(next.decision);
    say('checked: both processes still run; 50 predictions answered and logged; the next run completed');
  });

  it('a run survives Postgres killed (SIGKILL) mid-run and restarted, and the gateway serves throughout', async () => {
    const day = '2001-01-11';
    const before = (await listModelVersions(stack.db, spec.name)).length;
    const handle = await startRun(stack, spec, day);
    await waitForStage(handle, 'train');
    say('injected: SIGKILL to the Postgres postmaster while the run trains');
    await stack.postgres.kill();
    const during = await sendPredictions(gateway, spec, 'pg-down', 100);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    say('injected: Postgres started again after 3 s');
    await stack.postgres.restart();

    const result = (await handle.result()) as RetrainingPipelineResult;
    say(`run ${handle.workflowId}: ${result.decision} v${result.version.version}`);
    expect(during.failed, 'predictions while Postgres was down').toEqual([]);
    await expect.poll(async () => (await listLoggedRequestIds(stack.db, spec.name, 'pg-down')).length, { timeout: 20_000 }).toBe(100);
    say('checked: the 100 predictions answered while Postgres was down were logged after it came back');
    expect((await listModelVersions(stack.db, spec.name)).length).toBe(before + 1);
    await expectOneSnapshotPerPartition(stack, spec.name, runDays(day, spec.training.windowPartitions));
    await expectDeploymentAgreesWithRegistry(stack, spec.name);
    expect(worker.isRunning()).toBe(true);
    expect(gateway.process.isRunning()).toBe(true);
  });
});
