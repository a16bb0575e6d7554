import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { listApprovalEvents } from '../../lib/db/repositories/approvals';
import { setApproverPolicy } from '../../lib/db/repositories/approver-policies';
import { getDeployment, listDeploymentChanges } from '../../lib/db/repositories/deployments';
import { findChampion, listModelVersions } from '../../lib/db/repositories/model-versions';
import { listNotifications } from '../../lib/db/repositories/notifications';
import { restoreChampion } from '../../lib/promotion/traffic-moves';
import type { JsonNotificationPayload } from '../../lib/notification/notification-payload';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { labelledRequestsFromDay, startLabelledTraffic, type LabelledRequest } from '../../lib/traffic/labelled-traffic';
import {
  approvePromotionUpdate,
  rollbackUpdate,
  RETRAINING_PIPELINE,
  retrainingPipelineId,
  type RetrainingPipelineInput,
  type RetrainingPipelineResult,
} from '../../workflows/definitions';
import { ROLLBACK_CHAMPION, type RollbackChampionInput, type RollbackChampionResult } from '../../workflows/rollback-definitions';
import { fastSafePromotion, NO_GATES } from '../fixtures/live-promotion-spec';
import { startWebhookReceiver, type WebhookReceiver } from '../fixtures/webhook-receiver';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { trafficApiKey } from '../fixtures/traffic-api-key';
import { waitForApproval } from './awaiting-approval';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';

/**
 * Issue 10's notification and rollback-after-promotion, end to end on the real services: a
 * webhook receiver (down for its first two requests) is told that a run waits, that it was
 * promoted, that its champion was rolled back and that a canary rolled back; `retrain pending`
 * lists the waiting run; `retrain rollback --model M` puts the previous champion back in the
 * gateway under live load, with no failed request, recorded, and a repeat changes nothing.
 */
const { apiKey, auth } = trafficApiKey('live-traffic');

const isEvent =
  (event: JsonNotificationPayload['event'], workflowId?: string) =>
  (body: unknown): body is JsonNotificationPayload =>
    typeof body === 'object' && body !== null && (body as JsonNotificationPayload).event === event && (workflowId === undefined || (body as JsonNotificationPayload).run.workflowId === workflowId);

describe('notifications of promotion events, and rollback after promotion', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let gateway: Gateway;
  let url: string;
  let rows: LabelledRequest[];
  let receiver: WebhookReceiver;

  const startPipeline = (input: RetrainingPipelineInput) =>
    harness.client.workflow.start(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(input.spec.name, input.day), args: [input] });
  const retrain = (...args: string[]) => harness.retrain(args, { RETRAIN_GATEWAY_API_KEY: apiKey });

  /** The champion the gateway serves for the model now (its `GET /v1/models` entry). */
  async function servedChampion(): Promise<number | null> {
    const { models } = (await (await fetch(`${url}/v1/models`)).json()) as { models: { model: string; champion: number | null }[] };
    return models.find((m) => m.model === spec.name)?.champion ?? null;
  }

  beforeAll(async () => {
    harness = await createPipelineHarness('notify-rollback');
    // Down for its first two requests: the first notification is delivered on the third attempt.
    receiver = await startWebhookReceiver((index) => (index < 2 ? 503 : 200));
    harness.deps.notifier = { targets: [{ url: receiver.url, format: 'json' }], temporalUiUrl: 'http://127.0.0.1:8233', maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 1_000 };
    spec = {
      ...(await flightDelayOnHarness(harness, { name: 'flight-delay-nr', days: { from: '2001-01-02', to: '2001-01-12' } })),
      gates: NO_GATES,
      promotion: fastSafePromotion({ approvers: ['alice', 'bob'] }),
    };
    await setApproverPolicy(harness.deps.db, { model: spec.name, approvers: ['alice', 'bob'], changedBy: 'notify-rollback test', reason: 'the test on-call engineers' });
    const first = await harness.withWorkers(() => harness.client.workflow.execute(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(spec.name, '2001-01-09'), args: [{ spec, day: '2001-01-09' }] }));
    expect(first.decision).toBe('promote');
    rows = await labelledRequestsFromDay(harness.deps, spec, '2001-01-09', 2000);
    gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth, refreshIntervalMs: 5_000 });
    ({ url } = await gateway.start(0));
  });

  afterAll(async () => {
    await gateway?.close();
    await receiver?.close();
    await harness?.close();
  });

  it('the receiver is told the run waits (after two failed deliveries), retrain pending lists it, and it is told of the promotion', async () => {
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, concurrency: 4, prefix: 'promote' });
    const result = (await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec, day: '2001-01-10' });
      await waitForApproval(harness.client, handle, spec.name);
      const waiting = await receiver.waitFor(isEvent('awaiting-approval', handle.workflowId));
      expect(waiting).toMatchObject({ model: spec.name, championVersion: 1, candidateVersion: 2, evidence: { approvers: ['alice', 'bob'] } });
      expect(waiting.run.url).toMatch(/^http:\/\/127\.0\.0\.1:8233\/namespaces\/.+\/workflows\//);
      expect(waiting.evidence.shadow).toMatch(/\S/);

      const pending = await retrain('pending', '--model', spec.name);
      expect(pending.code, pending.stderr).toBe(0);
      const line = pending.stdout.split('\n').find((l) => l.includes(handle.workflowId));
      expect(line, pending.stdout).toBeDefined();
      expect(line).toMatch(/2001-01-10.*v2.*alice, bob/);
      // The gauge a dashboard and the "waiting too long" alert read, on the gateway's /metrics.
      const awaitingGauge = async () => new RegExp(`^retrain_runs_awaiting_approval\\{model="${spec.name}"\\} (\\d+)$`, 'm').exec(await (await fetch(`${url}/metrics`)).text())?.[1];
      expect(await awaitingGauge()).toBe('1');

      expect(await retrain('approve', '--model', spec.name, '--workflow-id', handle.workflowId, '--approver', 'alice', '--reason', 'shadow looks fine')).toMatchObject({ code: 0 });
      const decided = await handle.result();
      expect(await awaitingGauge()).toBe('0');
      return decided;
    })) as RetrainingPipelineResult;
    const report = await traffic.stop();
    // The pipeline's notifying path (patched('notify-promotion-events')), for the replay tests.
    await harness.recordHistory(result.workflowId, 'retraining-pipeline-notified-promotion');
    expect(result.decision).toBe('promote');
    expect(report.failed).toBe(0);

    const promoted = await receiver.waitFor(isEvent('promoted', result.workflowId), 30_000);
    expect(promoted).toMatchObject({ model: spec.name, candidateVersion: 2, championVersion: 2, actor: 'alice' });
    // The failing receiver was tried again: two 503s, then the wait's notification delivered, and all of it recorded.
    expect(receiver.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(receiver.requests.slice(0, 3).every((r) => isEvent('awaiting-approval')(r.body))).toBe(true);
    const records = await listNotifications(harness.deps.db, { workflowId: result.workflowId });
    const waitRecord = records.find((r) => r.event === 'awaiting-approval');
    expect(waitRecord).toMatchObject({ state: 'delivered', attempts: 3, lastStatus: 200 });
    expect(waitRecord!.outcomes.map((o) => o.status)).toEqual([503, 503, 200]);
    expect(records.find((r) => r.event === 'promoted')).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(await retrain('pending', '--model', spec.name)).toMatchObject({ code: 0, stdout: `no run is waiting for approval of ${spec.name}\n` });
  });

  it('retrain rollback --model M puts the previous champion back in the gateway within 1 s under live load, recorded, and a repeat changes nothing', async () => {
    const [v1, v2] = [1, 2];
    expect(await servedChampion()).toBe(v2);
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 4, prefix: 'rollback-champion' });
    const outcome = await harness.withWorkers(async () => {
      // Let the traffic run against v2 first.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const refused = await retrain('rollback', '--model', spec.name, '--approver', 'mallory', '--reason', 'not mine to do');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("approver 'mallory' is not on the allowlist (alice, bob)");
      expect(await servedChampion()).toBe(v2);

      // Watch the gateway while the command runs: when did it first serve v1 again?
      const seen: { v1At: number | null } = { v1At: null };
      let watching = true;
      const watch = (async () => {
        while (watching && seen.v1At === null) {
          if ((await servedChampion()) === v1) seen.v1At = Date.now();
          else await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const run = await retrain('rollback', '--model', spec.name, '--approver', 'bob', '--reason', 'p99 doubled after the promotion');
      const returnedAt = Date.now();
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^${spec.name} v2 rolled back: v1 is the champion again \\(deployment revision \\d+\\), asked by bob: p99 doubled after the promotion \\(rollback/${spec.name}/`));
      const deadline = returnedAt + 5_000;
      while (seen.v1At === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      watching = false;
      await watch;
      expect(seen.v1At, 'the gateway never served v1 again').not.toBeNull();
      // Let traffic run on v1 for a while, then repeat the request: nothing to undo.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const again = await retrain('rollback', '--model', spec.name, '--approver', 'bob', '--reason', 'p99 doubled after the promotion');
      // A rolled-back version is not a former champion to restore.
      const toRolledBack = await retrain('rollback', '--model', spec.name, '--to-version', '2', '--approver', 'bob', '--reason', 'try v2 again');
      return { run, returnedAt, servedV1At: seen.v1At!, again, toRolledBack };
    });
    const report = await traffic.stop();

    const change = (await listDeploymentChanges(harness.deps.db, spec.name)).find((c) => c.reason.startsWith('rollback of v2 to v1 requested by bob'));
    expect(change).toBeDefined();
    // The change's time is its transaction's start (Postgres now()): the swap seen by the gateway follows its commit.
    const swapMs = outcome.servedV1At - change!.createdAt.getTime();
    const afterCommandMs = outcome.servedV1At - outcome.returnedAt;
    console.log(`champion rollback: the gateway served v1 ${swapMs} ms after the change's transaction began (${afterCommandMs} ms after the command returned); ${report.sent} requests, ${report.failed} failed`);
    expect(swapMs).toBeLessThan(1_000);
    expect(afterCommandMs).toBeLessThan(1_000);
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.sent).toBeGreaterThan(100);

    // Recorded: the stages with the reason, who asked, the deployment, the notification.
    const versions = await listModelVersions(harness.deps.db, spec.name);
    expect(versions.find((v) => v.version === v2)).toMatchObject({ stage: 'rolled_back', stageReason: 'rolled back to v1 by bob: p99 doubled after the promotion' });
    expect(versions.find((v) => v.version === v1)).toMatchObject({ stage: 'champion' });
    expect((await findChampion(harness.deps.db, spec.name))?.version).toBe(v1);
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: versions.find((v) => v.version === v1)!.id, canaryVersionId: null, canaryWeight: 0 });
    const workflowId = /\((rollback\/[^)]+)\)\n$/.exec(outcome.run.stdout)![1]!;
    await harness.recordHistory(workflowId, 'rollback-champion-restored');
    expect((await listApprovalEvents(harness.deps.db, workflowId)).map((e) => [e.action, e.approver, e.reason])).toEqual([['rollback', 'bob', 'p99 doubled after the promotion']]);
    expect(change).toMatchObject({ workflowId });
    const told = await receiver.waitFor(isEvent('champion-rolled-back', workflowId), 30_000);
    expect(told).toMatchObject({ model: spec.name, candidateVersion: v2, championVersion: v1, actor: 'bob', detail: 'p99 doubled after the promotion' });

    // Idempotent: the activity retried for the same run returns what it did and changes nothing more...
    const { runId } = await harness.client.workflow.getHandle(workflowId).describe();
    const revisions = (await listDeploymentChanges(harness.deps.db, spec.name)).length;
    expect(await restoreChampion(harness.deps.db, { model: spec.name, approver: 'bob', reason: 'p99 doubled after the promotion', workflowId, runId })).toMatchObject({
      changed: true,
      demotedVersion: v2,
      championVersion: v1,
      revision: change!.revision,
    });
    expect(await listDeploymentChanges(harness.deps.db, spec.name)).toHaveLength(revisions);
    expect((await listApprovalEvents(harness.deps.db, workflowId)).length).toBe(1);
    // ...and a new request finds v1 put back by a rollback and changes nothing.
    expect(outcome.again.code, outcome.again.stderr).toBe(0);
    expect(outcome.again.stdout).toContain(`${spec.name} v1 is the champion since a rollback`);
    expect((await listDeploymentChanges(harness.deps.db, spec.name)).filter((c) => c.reason.startsWith('rollback of'))).toHaveLength(1);
    expect(outcome.toRolledBack.code).toBe(1);
    expect(outcome.toRolledBack.stderr).toContain(`${spec.name} v2 is rolled_back, not a former champion (archived)`);
  });

  it('the same request started as a workflow (Start Workflow in the Temporal UI) checks its input and leaves the champion it names unchanged', async () => {
    const start = (workflowId: string, input: unknown) =>
      harness.withWorkers(() => harness.client.workflow.execute(ROLLBACK_CHAMPION, { taskQueue: harness.taskQueue, workflowId, args: [input as RollbackChampionInput] }));
    const unchanged = (await start(`ui-rollback/${spec.name}/1`, { model: spec.name, toVersion: 1, approver: 'alice', reason: 'is v1 serving?' })) as RollbackChampionResult;
    expect(unchanged).toMatchObject({ changed: false, championVersion: 1, message: `${spec.name} v1 is already the champion: nothing changed` });
    const noReason = await start(`ui-rollback/${spec.name}/2`, { model: spec.name, approver: 'alice', reason: ' ' }).catch((e: unknown) => e);
    expect(noReason).toBeInstanceOf(Error);
    expect(String(((noReason as Error).cause as Error | undefined)?.message)).toContain('reason');
    expect(await findChampion(harness.deps.db, spec.name)).toMatchObject({ version: 1 });
  });

  it('a rollback request during a canary still aborts it, and the receiver is told', async () => {
    const champion = await findChampion(harness.deps.db, spec.name);
    const slow: ModelSpec = { ...spec, promotion: fastSafePromotion({ approvers: ['alice', 'bob'], canary: { stages: [25, 100], bakeSeconds: 600, maxBakeSeconds: 1200 } }) };
    const traffic = startLabelledTraffic({ url, apiKey, model: spec.name, requests: rows, concurrency: 4, prefix: 'rollback-canary' });
    const result = (await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec: slow, day: '2001-01-11' });
      await waitForApproval(harness.client, handle, spec.name);
      await handle.executeUpdate(approvePromotionUpdate, { args: [{ approver: 'alice' }] });
      const deadline = Date.now() + 60_000;
      while ((await getDeployment(harness.deps.db, spec.name))?.canaryWeight !== 0.25 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      // A champion rollback asked for now (the champion is the one a rollback put back) changes nothing: the canary goes on.
      const championRollback = await retrain('rollback', '--model', spec.name, '--approver', 'bob', '--reason', 'wrong command');
      expect(championRollback).toMatchObject({ code: 0, stdout: expect.stringContaining('nothing changed') });
      expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion!.id, canaryWeight: 0.25 });
      await harness.client.workflow.getHandle(`${handle.workflowId}/canary`).executeUpdate(rollbackUpdate, { args: [{ approver: 'bob', reason: 'pager went off' }] });
      return handle.result();
    })) as RetrainingPipelineResult;
    const report = await traffic.stop();
    expect(result.decision).toBe('reject');
    expect(result.reason).toBe('canary rolled back: rollback requested by bob: pager went off');
    expect(await getDeployment(harness.deps.db, spec.name)).toMatchObject({ championVersionId: champion!.id, canaryVersionId: null, canaryWeight: 0 });
    expect(report.failed).toBe(0);
    const told = await receiver.waitFor(isEvent('canary-rolled-back', result.workflowId), 30_000);
    expect(told).toMatchObject({ model: spec.name, championVersion: champion!.version });
    expect(told.detail).toContain('pager went off');
  });
  it('retrain rollback --to-version N restores the named former (archived) champion', async () => {
    // A direct promotion of another day's retrain: v1 (champion again) is archived once more.
    const direct: ModelSpec = { ...spec, promotion: { ...spec.promotion, strategy: 'direct' } };
    const outcome = await harness.withWorkers(async () => {
      const promoted = (await harness.client.workflow.execute(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(spec.name, '2001-01-12'), args: [{ spec: direct, day: '2001-01-12' }] })) as RetrainingPipelineResult;
      expect(promoted.decision).toBe('promote');
      expect(await servedChampion()).toBe(promoted.version.version);
      const run = await retrain('rollback', '--model', spec.name, '--to-version', '1', '--approver', 'alice', '--reason', 'back to the long-serving v1');
      return { promoted, run };
    });
    const newest = outcome.promoted.version.version;
    expect(outcome.run.code, outcome.run.stderr).toBe(0);
    expect(outcome.run.stdout).toContain(`${spec.name} v${newest} rolled back: v1 is the champion again`);
    await expect.poll(servedChampion, { timeout: 1_000, interval: 20 }).toBe(1);
    const versions = await listModelVersions(harness.deps.db, spec.name);
    expect(versions.find((v) => v.version === newest)).toMatchObject({ stage: 'rolled_back', stageReason: 'rolled back to v1 by alice: back to the long-serving v1' });
    expect(versions.find((v) => v.version === 1)).toMatchObject({ stage: 'champion' });
  });
});
