import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setApproverPolicy } from '../../lib/db/repositories/approver-policies';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { labelledRequestsFromDay, startLabelledTraffic } from '../../lib/traffic/labelled-traffic';
import { approvePromotionUpdate, pipelineStateQuery, type PipelineStage, type RetrainingPipelineResult } from '../../workflows/definitions';
import { expectDeploymentAgreesWithRegistry } from './fault-checks';
import { waitForStage } from './fault-observations';
import { say, type FaultStack, type RetrainProcess } from './fault-stack';
import { runToEnd, startFlightDelayFaultStack, startRun } from './flight-delay-fixture';
import { fastSafePromotion } from '../fixtures/live-promotion-spec';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PREFIX = 'load';

/** Polls the gateway's prediction-log queue (from /metrics) until stopped; keeps the largest value seen. */
function watchQueue(url: string): { peak(): number; stop(): Promise<void> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const text = await (await fetch(`${url}/metrics`)).text();
        const match = /^retrain_gateway_prediction_log_queue_rows (\d+)/m.exec(text);
        if (match) peak = Math.max(peak, Number(match[1]));
      } catch {
        // The gateway is busy or restarting the scrape: the next poll tells.
      }
      await sleep(200);
    }
  })();
  return {
    peak: () => peak,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/**
 * The gateway under live labelled traffic (predictions and feedback) through a whole safe
 * promotion (shadow → approval → canary → champion) while Postgres is stopped and started,
 * then SIGKILLed and restarted, and S3 is down for 30 s: no request fails, and the log ends
 * with exactly one served row per answered request and one label per taken label.
 */
describe('live load through a canary promotion, with Postgres and S3 faults', () => {
  let stack: FaultStack;
  let spec: ModelSpec;
  let worker: RetrainProcess;

  beforeAll(async () => {
    ({ stack, spec, worker } = await startFlightDelayFaultStack('live-load', 'flight-delay-load', { from: '2001-01-05', to: '2001-01-12' }));
    expect((await runToEnd(stack, spec, '2001-01-08')).decision).toBe('promote');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers every prediction and label, and logs each exactly once', async () => {
    const gateway = await stack.startGateway('gateway-1');
    const live: ModelSpec = {
      ...spec,
      promotion: fastSafePromotion({ approvers: ['alice'], shadow: { minRequests: 400, maxDurationSeconds: 180, minLabels: 200 }, canary: { bakeSeconds: 15, maxBakeSeconds: 180 } }),
    };
    const requests = await labelledRequestsFromDay({ db: stack.db, store: stack.store, workDir: stack.dir }, spec, '2001-01-08', 3000);
    const versionsBefore = (await listModelVersions(stack.db, spec.name)).length;
    const queue = watchQueue(gateway.url);
    const started = Date.now();
    const traffic = startLabelledTraffic({ url: gateway.url, apiKey: gateway.apiKey, model: spec.name, requests, concurrency: 4, prefix: PREFIX, keepRequestIds: true });
    const outages: string[] = [];
    const exited = new Set<string>();
    const progress = setInterval(() => {
      for (const proc of [gateway.process, worker]) {
        if (proc.isRunning() || exited.has(proc.name)) continue;
        exited.add(proc.name);
        say(`${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}); its last output:\n${proc.output().slice(-4000)}`);
      }
      const r = traffic.report;
      say(`traffic: ${r.sent} predictions, ${r.labelled} labels, ${r.failed} failed${r.failures[0] ? ` (first: ${r.failures[0]})` : ''}, after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }, 10_000);

    // Who may approve is the model's configured policy (what `retrain approvers set` writes).
    await setApproverPolicy(stack.db, { model: spec.name, approvers: ['alice'], changedBy: 'fault test', reason: 'the approver of the live-load fault test' });
    const handle = await startRun(stack, live, '2001-01-12');
    await waitForStage(handle, 'shadow', 180_000);
    say(`injected: Postgres stopped during the shadow (${traffic.report.sent} requests so far)`);
    let down = Date.now();
    await stack.postgres.stop();
    await sleep(3000);
    await stack.postgres.start();
    outages.push(`Postgres stopped and started: ${((Date.now() - down) / 1000).toFixed(1)} s`);
    say(`injected: ${outages.at(-1)}`);

    await waitForStageAtLeast(handle, 'awaiting-approval', 240_000);
    await handle.executeUpdate(approvePromotionUpdate, { args: [{ approver: 'alice', reason: 'live-load fault test' }] });
    await waitForStage(handle, 'canary', 120_000);
    await sleep(1000);
    say(`injected: SIGKILL to the Postgres postmaster during the canary (${traffic.report.sent} requests so far)`);
    down = Date.now();
    await stack.postgres.kill();
    await sleep(3000);
    await stack.postgres.restart();
    outages.push(`Postgres killed and restarted: ${((Date.now() - down) / 1000).toFixed(1)} s`);
    say(`injected: ${outages.at(-1)}`);
    say(`injected: the S3 server stopped for 30 s during the canary (${traffic.report.sent} requests so far)`);
    down = Date.now();
    await stack.s3Server.stop();
    await sleep(30_000);
    await stack.s3Server.start();
    outages.push(`S3 down: ${((Date.now() - down) / 1000).toFixed(1)} s`);
    say(`injected: ${outages.at(-1)}`);

    const result = (await handle.result()) as RetrainingPipelineResult;
    clearInterval(progress);
    const report = await traffic.stop();
    const seconds = (Date.now() - started) / 1000;
    await queue.stop();
    say(`run ${handle.workflowId}: ${result.decision}: ${result.reason}`);
    expect(result.decision, result.reason).toBe('promote');
    expect(result.live?.canary?.outcome).toBe('promoted');
    expect((await listModelVersions(stack.db, spec.name)).length).toBe(versionsBefore + 1);
    await expectDeploymentAgreesWithRegistry(stack, spec.name);

    // No failed request, prediction or feedback.
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    const answered = report.requestIds.length;
    expect(answered).toBe(report.sent);
    expect(report.labelled).toBe(answered);
    expect(report.served.canary).toBeGreaterThan(0);

    // Exactly one served row per answered request, one label per taken label, each label behind its prediction
    // (its transaction id is its prediction row's or a later one). Read out and counted here: plain scans.
    const read = async () => {
      const served = await sql<{ request_id: string; xid: string }>`
        select request_id, xmin::text as xid from predictions
        where model = ${spec.name} and role <> 'shadow' and error is null and starts_with(request_id, ${`${PREFIX}-`})`.execute(stack.db);
      const labels = await sql<{ request_id: string; xid: string }>`
        select request_id, xmin::text as xid from feedback where model = ${spec.name} and starts_with(request_id, ${`${PREFIX}-`})`.execute(stack.db);
      return { served: served.rows, labels: labels.rows };
    };
    await expect.poll(async () => (await read()).labels.length, { timeout: 60_000, interval: 1000 }).toBe(answered);
    const { served, labels } = await read();
    const servedXid = new Map(served.map((r) => [r.request_id, Number(r.xid)]));
    const stored = {
      served: served.length,
      ids: servedXid.size,
      labels: labels.length,
      labelledIds: new Set(labels.map((r) => r.request_id)).size,
      orphans: labels.filter((r) => !servedXid.has(r.request_id)).length,
      early: labels.filter((r) => servedXid.has(r.request_id) && Number(r.xid) < servedXid.get(r.request_id)!).length,
    };
    expect(stored).toEqual({ served: answered, ids: answered, labels: answered, labelledIds: answered, orphans: 0, early: 0 });
    expect(report.requestIds.filter((id) => !servedXid.has(id))).toEqual([]);

    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).not.toMatch(/retrain_gateway_prediction_log_rows_total\{outcome="(dropped|duplicate)"\} [1-9]/);
    expect(gateway.process.isRunning()).toBe(true);
    expect(worker.isRunning()).toBe(true);
    say(
      `checked: ${report.sent} predictions and ${report.labelled} labels in ${seconds.toFixed(0)} s (${(report.sent / seconds).toFixed(0)} predictions/s; ` +
        `champion ${report.served.champion}, canary ${report.served.canary}), 0 failed; ${stored.served} served rows logged for ${answered} answered, ` +
        `${stored.labels} labels stored once each, none before its prediction; peak prediction-log queue ${queue.peak()} entries; outages: ${outages.join(', ')}`,
    );
    await gateway.process.stop();
  });
});

const STAGE_ORDER: readonly PipelineStage[] = ['shadow', 'awaiting-approval', 'canary', 'promote'];

/** Waits until the run is at `stage` or past it in the promotion (the shadow may end while a fault is injected). */
async function waitForStageAtLeast(handle: Parameters<typeof waitForStage>[0], stage: PipelineStage, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const state = await handle.query(pipelineStateQuery);
      last = `${state.stage}: ${state.message}`;
      if (state.stage === 'done' || state.stage === 'failed') {
        last = `${state.stage}: ${JSON.stringify(await handle.result().catch((e: unknown) => String(e)))}`;
        break;
      }
      if (STAGE_ORDER.indexOf(state.stage) >= STAGE_ORDER.indexOf(stage)) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${handle.workflowId} did not reach stage '${stage}' (last: ${last})`);
}
