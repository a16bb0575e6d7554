import { WorkflowUpdateFailedError } from '@temporalio/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { listApprovalEvents } from '../../lib/db/repositories/approvals';
import { setApproverPolicy } from '../../lib/db/repositories/approver-policies';
import { getDeployment, listDeploymentChanges } from '../../lib/db/repositories/deployments';
import { findLatestDatasetForDay } from '../../lib/db/repositories/datasets';
import { findChampion, insertModelVersion, listModelVersions } from '../../lib/db/repositories/model-versions';
import { listPredictedRequestIds } from '../../lib/db/repositories/predictions';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import {
  approvePromotionUpdate,
  rollbackUpdate,
  RETRAINING_PIPELINE,
  retrainingPipelineId,
  SHADOW_EVALUATION,
  type RetrainingPipelineInput,
  type RetrainingPipelineResult,
  type ShadowEvaluationInput,
  type ShadowEvaluationResult,
} from '../../workflows/definitions';
import { labelledRequestsFromDay, sampleLabelledDay, startLabelledTraffic, type LabelledRequest } from '../../lib/traffic/labelled-traffic';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { trafficApiKey } from '../fixtures/traffic-api-key';
import { waitForApproval } from './awaiting-approval';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';
import { ANY_SCORES, fastSafePromotion, NO_GATES } from '../fixtures/live-promotion-spec';

const { apiKey, auth } = trafficApiKey('live-traffic');

describe('live promotion under load: shadow, approval, canary', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let gateway: Gateway;
  let url: string;
  let rows: LabelledRequest[];

  const startPipeline = (input: RetrainingPipelineInput) =>
    harness.client.workflow.start(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(input.spec.name, input.day), args: [input] });

  /** Runs `retrain <args>` (bin/retrain.cjs, as a user would) against the test's services, with the clients' API key. */
  const retrain = (...args: string[]) => harness.retrain(args, { RETRAIN_GATEWAY_API_KEY: apiKey });

  /** Activities a workflow completed, in order, with the times Temporal recorded (ms since the epoch). */
  async function completedActivities(workflowId: string): Promise<{ name: string; completedAt: number }[]> {
    const { events } = await harness.client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = new Map<string, string>();
    const completed: { name: string; completedAt: number }[] = [];
    for (const event of events ?? []) {
      if (event.activityTaskScheduledEventAttributes) scheduled.set(String(event.eventId), event.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      const done = event.activityTaskCompletedEventAttributes;
      if (done && event.eventTime) {
        completed.push({ name: scheduled.get(String(done.scheduledEventId)) ?? '', completedAt: Number(event.eventTime.seconds) * 1000 + (event.eventTime.nanos ?? 0) / 1e6 });
      }
    }
    return completed;
  }

  /** What the gateway serves for the model now (its `GET /v1/models` entry). */
  async function servingStatus(): Promise<{ champion: number | null; canary: number | null; canaryWeight: number }> {
    const { models } = (await (await fetch(`${url}/v1/models`)).json()) as { models: { model: string; champion: number | null; canary: number | null; canaryWeight: number }[] };
    const status = models.find((m) => m.model === spec.name);
    if (!status) throw new Error(`the gateway does not serve ${spec.name}`);
    return status;
  }

  beforeAll(async () => {
    harness = await createPipelineHarness('live');
    spec = {
      ...(await flightDelayOnHarness(harness, { name: 'flight-delay-live', days: { from: '2001-01-02', to: '2001-01-16' } })),
      promotion: fastSafePromotion({
        approvers: ['alice', 'bob'],
        // This file is about what the shadow and the canary judge: their quality gates stay on.
        judgeQuality: true,
        // A later day's fine-tune moves its scores with what it learned (KS 0.365 seen on a candidate
        // 0.065 AUC better): the distribution gate here stops only gross changes; log loss and AUC judge quality.
        shadow: { minRequests: 150, minAgreement: 0.7, maxLatencyP99Ratio: 20, maxAccuracyDrop: 0.1, minLabels: 100, maxScoreKs: 0.5 },
        // A low false-alarm rate: the good candidate must not be rolled back by chance.
        canary: { stages: [10, 50, 100], bakeSeconds: 2, minRequests: 30, maxErrorRateIncrease: 0.01, maxLatencyP99Ratio: 20, sprt: { alpha: 0.01, beta: 0.1, minEffect: 0.15 } },
      }),
    };
    // The approvers come from the model's policy (what an operator sets with `retrain approvers set`), not from the spec.
    await setApproverPolicy(harness.deps.db, { model: spec.name, approvers: ['alice', 'bob'], changedBy: 'live-promotion test', reason: 'the test on-call engineers' });
    // The first champion goes live directly: there is no traffic yet to compare a shadow with.
    const first = await harness.withWorkers(() => harness.client.workflow.execute(RETRAINING_PIPELINE, {
      taskQueue: harness.taskQueue,
      workflowId: retrainingPipelineId(spec.name, '2001-01-09'),
      args: [{ spec, day: '2001-01-09' }],
    }));
    expect(first.decision).toBe('promote');
    expect((await getDeployment(harness.deps.db, spec.name))?.championVersionId).toBe(first.version.id);

    // Client traffic: real flights (2001-01-09) sampled across the day, with their true labels as feedback.
    rows = await labelledRequestsFromDay(harness.deps, spec, '2001-01-09', 3000);

    gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth, refreshIntervalMs: 5_000 });
    ({ url } = await gateway.start(0));
  });

  afterAll(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it('a good candidate goes shadow -> approval -> canary -> champion with zero failed requests, every request logged', async () => {
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 6, prefix: 'good' });
    const result = (await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec, day: '2001-01-10' });
      await waitForApproval(harness.client, handle, spec.name);
      // Someone not on the allowlist is refused, and the run keeps waiting.
      const refused = await handle.executeUpdate(approvePromotionUpdate, { args: [{ approver: 'mallory' }] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause?.message).toBe("approver 'mallory' is not on the allowlist (alice, bob)");
      await handle.executeUpdate(approvePromotionUpdate, { args: [{ approver: 'alice', reason: 'shadow looks fine' }] });
      return handle.result();
    })) as RetrainingPipelineResult;
    const report = await traffic.stop();
    await harness.recordHistory(result.workflowId, 'retraining-pipeline-live-promotion');
    await harness.recordHistory(`${result.workflowId}/shadow`, 'shadow-evaluation');
    await harness.recordHistory(`${result.workflowId}/canary`, 'canary-rollout-promoted');

    expect(result.decision).toBe('promote');
    expect(result.live?.shadow.verdict.passed).toBe(true);
    expect(result.live?.approval).toMatchObject({ action: 'approve', approver: 'alice' });
    expect(result.live?.canary?.outcome).toBe('promoted');
    expect(result.live?.canary?.stages.map((s) => s.percent)).toEqual([10, 50, 100]);
    expect((await findChampion(harness.deps.db, spec.name))?.id).toBe(result.version.id);
    const deployment = await getDeployment(harness.deps.db, spec.name);
    expect(deployment).toMatchObject({ championVersionId: result.version.id, canaryVersionId: null, canaryWeight: 0, shadowVersionId: null });
    const actions = (await listApprovalEvents(harness.deps.db, result.workflowId)).map((e) => [e.action, e.approver]);
    // The wait itself is recorded first (what the awaiting-approval gauge counts), then each person's answer.
    expect(actions).toEqual([['awaiting', null], ['refused', 'mallory'], ['approve', 'alice']]);
    const changes = await listDeploymentChanges(harness.deps.db, spec.name);
    expect(changes.map((c) => c.reason).join('\n')).toMatch(/canary stage 2 of 3: 50% of traffic/);
    // What an engineer sees from the terminal.
    const status = await retrain('status', '--model', spec.name);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`serving (revision ${deployment!.revision}): champion v${result.version.version}, canary none, shadow none`);
    expect(status.stdout).toMatch(/latest traffic changes:[\s\S]*canary stage 2 of 3: 50% of traffic/);

    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.sent).toBeGreaterThan(300);
    await gateway.close();
    const logged = await listPredictedRequestIds(harness.deps.db, spec.name);
    expect(report.requestIds.filter((id) => !logged.has(id))).toEqual([]);
    ({ url } = await (gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth })).start(0));
  });

  it('retrain traffic replays an ingested day through the gateway, each prediction followed by its true label', async () => {
    const run = await retrain('traffic', '--model', spec.name, '--day', '2001-01-09', '--seconds', '2', '--concurrency', '2', '--rows', '300', '--gateway', url);
    expect(run.stderr).toContain(`replaying 300 rows of 2001-01-09 to ${url} with 2 clients for 2 s`);
    expect(run.code).toBe(0);
    // A seeded sample of the whole day, not its first rows (the earliest departures, delayed about half as often).
    const sampled = /sampled across the day with seed 1: 300 of ([\d,]+) rows, delayed rate (\d\.\d{3}) \(the day's (\d\.\d{3})\)/.exec(run.stderr);
    expect(sampled, run.stderr).not.toBeNull();
    const [dayRows, sampleRate, dayRate] = [Number(sampled![1]!.replace(/,/g, '')), Number(sampled![2]), Number(sampled![3])];
    expect(dayRows).toBeGreaterThan(10_000);
    expect(Math.abs(sampleRate - dayRate)).toBeLessThan(0.07);
    const day = await sampleLabelledDay(harness.deps, spec, '2001-01-09', { limit: 3000 });
    expect(day.requests).toEqual(rows);
    expect(Math.abs(rows.filter((r) => r.label === 1).length / rows.length - day.dayPositiveRate)).toBeLessThan(0.03);
    const another = await sampleLabelledDay(harness.deps, spec, '2001-01-09', { limit: 3000, seed: 2 });
    expect(another.requests).not.toEqual(rows);
    const summary = /: (\d+) sent \(\d+\/s\), 0 failed; answered by the champion (\d+), the canary 0\n/.exec(run.stdout);
    expect(summary, run.stdout).not.toBeNull();
    const sent = Number(summary![1]);
    expect(sent).toBeGreaterThan(20);
    expect(Number(summary![2])).toBe(sent);
    // Every replayed prediction is logged (the log writes within 100 ms) and has its label; the labels are the day's true ones (not all the same).
    const replayed = async () => {
      const { rows } = await sql<{ predictions: string; labels: string; delayed: string }>`
        select count(distinct p.request_id) as predictions, count(f.label) as labels, count(*) filter (where f.label = 1) as delayed
        from predictions p left join feedback f on f.model = p.model and f.request_id = p.request_id
        where p.model = ${spec.name} and p.request_id like 'replay-2001-01-09-%' and p.role = 'champion'
      `.execute(harness.deps.db);
      return { predictions: Number(rows[0]!.predictions), labels: Number(rows[0]!.labels), delayed: Number(rows[0]!.delayed) };
    };
    // Labels are written through the same log, behind their predictions.
    await expect.poll(async () => { const r = await replayed(); return [r.predictions, r.labels]; }).toEqual([sent, sent]);
    const { delayed } = await replayed();
    expect(delayed).toBeGreaterThan(0);
    expect(delayed).toBeLessThan(sent);

    expect(await retrain('traffic', '--model', 'no-such-model', '--day', '2001-01-09', '--gateway', url)).toMatchObject({ code: 1, stderr: expect.stringContaining("unknown model 'no-such-model'") });
    expect(await retrain('traffic', '--model', spec.name, '--day', '2001-01-09')).toMatchObject({ code: 1, stderr: expect.stringContaining('no gateway to send traffic to') });
  });

  it('a bad candidate (trained on shuffled labels) is rolled back automatically by the canary analysis', async () => {
    const champion = await findChampion(harness.deps.db, spec.name);
    const bad: ModelSpec = {
      ...spec,
      // Labels unrelated to delays: the model learns nothing about them.
      label: { name: 'delayed', sql: '(hash(origin, destination, date) % 2) = 0' },
      gates: { minimums: {}, maxRegression: {}, sliceMaxRegression: {}, sliceMinRows: 200 },
      // A shadow phase with labels, or comparing scores, would already catch it (tested below); here it must reach the canary.
      promotion: { ...spec.promotion, shadow: { ...spec.promotion.shadow, minAgreement: 0, minLabels: 1_000_000, minProbabilityLabels: 1_000_000, maxScoreKs: 1, maxMeanAbsScoreDifference: 1 } },
    };
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 6, prefix: 'bad' });
    const result = (await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec: bad, day: '2001-01-11' });
      await waitForApproval(harness.client, handle, spec.name);
      // From the terminal: the same Update the UI sends.
      expect(await retrain('approve', '--model', spec.name, '--day', '2001-01-11', '--approver', 'bob')).toMatchObject({
        code: 0,
        stdout: `approve accepted from bob by ${handle.workflowId}\n`,
      });
      return handle.result();
    })) as RetrainingPipelineResult;
    const report = await traffic.stop();
    await harness.recordHistory(`${result.workflowId}/canary`, 'canary-rollout-rolled-back');

    expect(result.decision).toBe('reject');
    expect(result.live?.canary?.outcome).toBe('rolled_back');
    expect(result.reason).toMatch(/sequential test found the canary worse/);
    // From the analysis that failed to the traffic move back to the champion, in the canary's history: well within 1 s.
    const completed = await completedActivities(`${result.workflowId}/canary`);
    const failedAnalysis = completed.filter((a) => a.name === 'observeCanaryStage').at(-1)!;
    const rolledBack = completed.find((a) => a.name === 'rollbackCanary')!;
    expect(rolledBack.completedAt - failedAnalysis.completedAt).toBeLessThan(1_000);
    const versions = await listModelVersions(harness.deps.db, spec.name);
    expect(versions.find((v) => v.id === result.version.id)?.stage).toBe('rolled_back');
    expect((await findChampion(harness.deps.db, spec.name))?.id).toBe(champion!.id);
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion!.id, canaryVersionId: null, canaryWeight: 0 });

    expect(report.failed).toBe(0);
    await gateway.close();
    const logged = await listPredictedRequestIds(harness.deps.db, spec.name);
    expect(report.requestIds.filter((id) => !logged.has(id))).toEqual([]);
    ({ url } = await (gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth })).start(0));
  });

  it('the shadow phase rejects a bad candidate once labels arrive, before any traffic moves', async () => {
    const champion = await findChampion(harness.deps.db, spec.name);
    const bad: ModelSpec = {
      ...spec,
      label: { name: 'delayed', sql: '(hash(origin, destination, date) % 2) = 0' },
      gates: { minimums: {}, maxRegression: {}, sliceMaxRegression: {}, sliceMinRows: 200 },
      promotion: { ...spec.promotion, shadow: { ...spec.promotion.shadow, minAgreement: 0, minLabels: 50 } },
    };
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 4, prefix: 'shadow-bad' });
    const result = (await harness.withWorkers(() => startPipeline({ spec: bad, day: '2001-01-12' }).then((h) => h.result()))) as RetrainingPipelineResult;
    const report = await traffic.stop();
    expect(result.decision).toBe('reject');
    expect(result.live?.approval).toBeNull();
    expect(result.reason).toMatch(/^shadow failed: .*accuracy on \d+ labelled requests/);
    expect((await listModelVersions(harness.deps.db, spec.name)).find((v) => v.id === result.version.id)?.stage).toBe('rejected');
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion!.id, canaryVersionId: null, shadowVersionId: null });
    expect(report.failed).toBe(0);
  });

  it('a rollback request aborts the canary at once: all traffic back to the champion', async () => {
    const champion = await findChampion(harness.deps.db, spec.name);
    // Stages that cannot pass quickly, so the rollback arrives mid-canary.
    const slow: ModelSpec = {
      ...spec,
      gates: NO_GATES,
      promotion: { ...spec.promotion, shadow: { ...spec.promotion.shadow, ...ANY_SCORES }, canary: { ...spec.promotion.canary, stages: [25, 100], bakeSeconds: 600, maxBakeSeconds: 1200 } },
    };
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 4, prefix: 'rollback' });
    const result = (await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec: slow, day: '2001-01-13' });
      await waitForApproval(harness.client, handle, spec.name);
      await handle.executeUpdate(approvePromotionUpdate, { args: [{ approver: 'alice' }] });
      const canary = harness.client.workflow.getHandle(`${handle.workflowId}/canary`);
      const deadline = Date.now() + 60_000;
      while ((await getDeployment(harness.deps.db, spec.name))?.canaryWeight !== 0.25 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const refused = await canary.executeUpdate(rollbackUpdate, { args: [{ approver: 'mallory' }] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      // The same from the terminal: refused with the reason, then accepted.
      const refusedByCli = await retrain('rollback', '--model', spec.name, '--day', '2001-01-13', '--approver', 'mallory');
      expect(refusedByCli.code).toBe(1);
      expect(refusedByCli.stderr).toContain(`retrain: rollback refused by ${canary.workflowId}: approver 'mallory' is not on the allowlist (alice, bob)`);
      expect(await retrain('rollback', '--model', spec.name, '--day', '2001-01-13', '--approver', 'bob', '--reason', 'pager went off')).toMatchObject({
        code: 0,
        stdout: `rollback accepted from bob by ${canary.workflowId}\n`,
      });
      // From the accepted request (the command has returned) to the gateway serving the champion alone: within 1 s.
      const accepted = Date.now();
      while ((await servingStatus()).canary !== null && Date.now() - accepted < 5_000) await new Promise((r) => setTimeout(r, 10));
      expect(await servingStatus()).toMatchObject({ canary: null, canaryWeight: 0, champion: champion!.version });
      expect(Date.now() - accepted).toBeLessThan(1_000);
      return handle.result();
    })) as RetrainingPipelineResult;
    await traffic.stop();
    expect(result.decision).toBe('reject');
    expect(result.reason).toBe('canary rolled back: rollback requested by bob: pager went off');
    expect(result.live?.canary?.stages.at(-1)).toMatchObject({ percent: 25, verdict: 'rollback' });
    // Who asked and why, next to the approval that started the canary.
    expect((await listApprovalEvents(harness.deps.db, `${result.workflowId}/canary`)).map((e) => [e.action, e.approver, e.reason])).toEqual([['rollback', 'bob', 'pager went off']]);
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion!.id, canaryVersionId: null, canaryWeight: 0 });
    expect((await listModelVersions(harness.deps.db, spec.name)).find((v) => v.id === result.version.id)?.stage).toBe('rolled_back');
  });

  it('an approval that times out is rejected or escalated, as configured, and recorded', async () => {
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 4, prefix: 'timeout' });
    const shadow = { ...spec.promotion.shadow, ...ANY_SCORES };
    const rejectOnTimeout: ModelSpec = { ...spec, gates: NO_GATES, promotion: { ...spec.promotion, shadow, approval: { approvers: ['alice'], timeoutSeconds: 2, onTimeout: 'reject' } } };
    const escalateOnTimeout: ModelSpec = { ...spec, gates: NO_GATES, promotion: { ...spec.promotion, shadow, approval: { approvers: ['alice'], timeoutSeconds: 1, onTimeout: 'escalate' } } };
    const [timedOut, escalated] = await harness.withWorkers(async () => {
      const first = await (await startPipeline({ spec: rejectOnTimeout, day: '2001-01-14' })).result();
      const handle = await startPipeline({ spec: escalateOnTimeout, day: '2001-01-15' });
      await waitForApproval(harness.client, handle, spec.name);
      const deadline = Date.now() + 60_000;
      while ((await listApprovalEvents(harness.deps.db, handle.workflowId)).filter((e) => e.action === 'escalated').length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await retrain('reject', '--model', spec.name, '--day', '2001-01-15', '--approver', 'alice', '--reason', 'seen the escalation')).toMatchObject({
        code: 0,
        stdout: `reject accepted from alice by ${handle.workflowId}\n`,
      });
      return [first, (await handle.result()) as RetrainingPipelineResult];
    });
    await traffic.stop();
    expect(timedOut.decision).toBe('reject');
    expect(timedOut.reason).toBe('no decision within 2 s');
    expect((await listApprovalEvents(harness.deps.db, timedOut.workflowId)).map((e) => e.action)).toEqual(['awaiting', 'timeout']);
    expect(escalated.reason).toBe('rejected by alice: seen the escalation');
    const actions = (await listApprovalEvents(harness.deps.db, escalated.workflowId)).map((e) => e.action);
    expect(actions.filter((a) => a === 'escalated').length).toBeGreaterThanOrEqual(2);
    expect(actions.at(-1)).toBe('reject');
  });
  it('the shadow rejects a candidate trained on shuffled labels on log loss and AUC, where accuracy at 0.5 ties', async () => {
    const champion = await findChampion(harness.deps.db, spec.name);
    const shuffled: ModelSpec = {
      ...spec,
      // A delay rate like January's (2001-01-10: 0.235), on no feature: the model predicts about 0.235 for every flight,
      // so it never predicts "delayed", and neither does the champion, almost: their accuracy at 0.5 is the same.
      label: { name: 'delayed', sql: '(hash(date, origin, destination, distance, delay) % 1000) < 235' },
      gates: NO_GATES,
    };
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 4, prefix: 'shuffled' });
    const result = (await harness.withWorkers(() => startPipeline({ spec: shuffled, day: '2001-01-16' }).then((h) => h.result()))) as RetrainingPipelineResult;
    const report = await traffic.stop();
    const shadow = result.live!.shadow;
    const check = (name: string) => shadow.verdict.checks.find((c) => c.name === name)!;
    expect(result.decision).toBe('reject');
    expect(result.live?.approval).toBeNull();
    expect(check('agreement').passed).toBe(true);
    expect(check('accuracy').passed).toBe(true);
    const { championAccuracy, candidateAccuracy, probabilities } = shadow.observation.labelled;
    expect(Math.abs(candidateAccuracy! - championAccuracy!)).toBeLessThan(0.02);
    expect(check('auc')).toMatchObject({ passed: false, message: expect.stringMatching(/^ROC AUC 0\.\d{3} vs champion 0\.\d{3} on \d+ labelled requests: -0\.\d{3} \(95% CI -0\.\d{3}\.\.-0\.\d{3}\), allowed -0\.050: worse$/) });
    // Log loss sees it too (the champion beats the base rate by only about 0.02-0.03 nats here), though less surely than AUC.
    expect(check('logLoss').message).toMatch(/^log loss 0\.\d{3} vs champion 0\.\d{3} on \d+ labelled requests: \+0\.\d{3} \(95% CI [+-]?0\.\d{3}\.\.\+0\.\d{3}\), allowed \+0\.020: (not )?worse$/);
    expect(probabilities!.logLoss.delta!).toBeGreaterThan(0);
    expect(probabilities!.auc.high!).toBeLessThan(0);
    expect(result.reason).toMatch(/^shadow failed: .*ROC AUC .*: worse/);
    expect((await listModelVersions(harness.deps.db, spec.name)).find((v) => v.id === result.version.id)?.stage).toBe('rejected');
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion!.id, canaryVersionId: null, shadowVersionId: null });
    expect(report.failed).toBe(0);
  });

  it('the shadow passes a candidate equal to the champion (its own artifact): no difference in any metric or score', async () => {
    const champion = (await findChampion(harness.deps.db, spec.name))!;
    // A second version of the champion's artifact, registered as a candidate of its own.
    const copy = await harness.deps.db.transaction().execute(async (trx) => {
      const { rows: [run] } = await sql<{ id: string }>`
        insert into training_runs (model, fingerprint, dataset_ids, trainer, mode, mode_reason, metrics, duration_ms, workflow_id)
        select model, fingerprint || '/same-artifact', dataset_ids, trainer, mode, mode_reason, metrics, duration_ms, workflow_id from training_runs where id = ${champion.trainingRunId}
        returning id`.execute(trx);
      return insertModelVersion(trx, { ...champion, trainingRunId: String(run!.id), workflowId: 'test/same-artifact' });
    });
    const holdout = await findLatestDatasetForDay(harness.deps.db, spec.name, '2001-01-15');
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 4, prefix: 'same-artifact' });
    const input: ShadowEvaluationInput = {
      model: spec.name,
      candidateVersionId: copy.id,
      candidateVersion: copy.version,
      championVersionId: champion.id,
      championVersion: champion.version,
      holdoutDatasetId: holdout!.id,
      spec: spec.promotion.shadow,
    };
    const shadow = (await harness.withWorkers(() =>
      harness.client.workflow.execute(SHADOW_EVALUATION, { taskQueue: harness.taskQueue, workflowId: `test/${spec.name}/same-artifact/shadow`, args: [input] }),
    )) as ShadowEvaluationResult;
    const report = await traffic.stop();
    expect(shadow.verdict.passed, shadow.verdict.reason).toBe(true);
    const { probabilities } = shadow.observation.labelled;
    expect(probabilities!.rows).toBeGreaterThanOrEqual(spec.promotion.shadow.minLabels);
    for (const metric of [probabilities!.logLoss, probabilities!.brier, probabilities!.auc]) expect(metric).toMatchObject({ delta: 0, low: 0, high: 0 });
    expect(shadow.observation.scores).toMatchObject({ meanAbsDifference: 0, p99AbsDifference: 0, ks: { statistic: 0, pValue: 1 } });
    expect(shadow.verdict.checks.find((c) => c.name === 'logLoss')?.message).toMatch(/: 0\.000 \(95% CI 0\.000\.\.0\.000\), allowed \+0\.020: not worse$/);
    expect(report.failed).toBe(0);
  });
});
