import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { listApprovalEvents } from '../../lib/db/repositories/approvals';
import { setApproverPolicy } from '../../lib/db/repositories/approver-policies';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineResult } from '../../workflows/definitions';
import { labelledRequestsFromDay, startLabelledTraffic } from '../../lib/traffic/labelled-traffic';
import { flightDelayOnHarness } from '../integration/flight-delay-on-harness';
import { createPipelineHarness, type PipelineHarness } from '../integration/pipeline-harness';
import { findWorkflowsByQuery, launchChromium, openWorkflowFromList, readCurrentDetails, readWorkflowStatus, sendUpdateFromUi, waitForWorkflowStatus, type ChromiumSession } from './temporal-ui';
import { fastSafePromotion } from '../fixtures/live-promotion-spec';


/** Allowances no candidate exceeds: the shadow's probability and score gates off. */

// The approval an on-call engineer gives in the Temporal Web UI, on the real pipeline: found through
// its search attributes, approved with the approvePromotion Update from the UI's own dialog.
describe('approving a real pipeline run in the Temporal Web UI', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let gateway: Gateway;
  let browser: ChromiumSession;
  let traffic: ReturnType<typeof startLabelledTraffic>;

  const awaitingQuery = () => `RetrainAwaitingApproval = true AND RetrainModel = "${spec.name}"`;

  /** Starts the day's run and finds it in the UI's list by its search attributes, through the URL or typed into the query box. */
  async function startAndWaitForApproval(day: string, via: 'url' | 'queryBox'): Promise<WorkflowHandle> {
    const handle = await harness.client.workflow.start(RETRAINING_PIPELINE, {
      taskQueue: harness.taskQueue,
      workflowId: retrainingPipelineId(spec.name, day),
      args: [{ spec, day }],
    });
    const { services } = harness;
    const ids = await findWorkflowsByQuery(browser.page, services.temporalUiUrl, services.namespace, awaitingQuery(), {
      via,
      until: (rows) => rows.some((r) => r.workflowId === handle.workflowId),
      timeoutMs: 120_000,
    });
    expect(ids).toContain(handle.workflowId);
    await openWorkflowFromList(browser.page, handle.workflowId);
    return handle;
  }

  beforeAll(async () => {
    harness = await createPipelineHarness('e2e-approval');
    spec = {
      ...(await flightDelayOnHarness(harness, { name: 'flight-delay-ui', days: { from: '2001-01-02', to: '2001-01-11' } })),
      promotion: fastSafePromotion({ approvers: ['alice', 'bob'] }),
    };
    // Who may approve is configured for the model (`retrain approvers set`), not taken from the spec.
    await setApproverPolicy(harness.deps.db, { model: spec.name, approvers: ['alice', 'bob'], changedBy: 'e2e test', reason: 'the test on-call engineers' });
    await harness.withWorkers(() =>
      harness.client.workflow.execute(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(spec.name, '2001-01-09'), args: [{ spec, day: '2001-01-09' }] }),
    );
    const rows = await labelledRequestsFromDay(harness.deps, spec, '2001-01-09', 2000);
    gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth: { mode: 'open' } });
    const { url } = await gateway.start(0);
    traffic = startLabelledTraffic({ url, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 3, prefix: 'ui' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await traffic?.stop();
    await gateway?.close();
    await harness?.close();
  });

  it('finds the run awaiting approval by its search attribute, approves it from the UI, and the run goes on to the canary', async () => {
    const result = (await harness.withWorkers(async () => {
      const handle = await startAndWaitForApproval('2001-01-10', 'queryBox');
      // What the approver decides on is in the run's current details.
      const details = await readCurrentDetails(browser.page);
      expect(details?.text).toContain(`${spec.name} v2 is waiting for approval`);
      expect(details?.text).toMatch(/Approvers: alice, bob/);
      expect(details?.text).toMatch(/Offline evaluation/);
      expect(details?.text).toMatch(/Shadow/);
      const sent = await sendUpdateFromUi(browser.page, 'approvePromotion', { approver: 'alice', reason: 'approved in the UI' });
      expect(sent.ok, sent.message).toBe(true);
      return handle.result();
    })) as RetrainingPipelineResult;
    expect(result.live?.approval).toMatchObject({ action: 'approve', approver: 'alice' });
    // The run moved on to the canary; its verdict is the canary analysis' business (tested in live-promotion).
    expect(result.live?.canary?.stages[0]?.percent, result.reason).toBe(50);
  });

  it('refuses an approver who is not on the allowlist with a message the UI shows, keeps waiting, and takes a rejection from the UI', async () => {
    await harness.withWorkers(async () => {
      const handle = await startAndWaitForApproval('2001-01-11', 'url');
      const refused = await sendUpdateFromUi(browser.page, 'approvePromotion', { approver: 'mallory' });
      expect(refused.ok).toBe(false);
      expect(refused.message).toContain("approver 'mallory' is not on the allowlist (alice, bob)");
      expect(await readWorkflowStatus(browser.page)).toMatch(/running/i);
      expect((await listApprovalEvents(harness.deps.db, handle.workflowId)).map((e) => [e.action, e.approver])).toEqual([['refused', 'mallory']]);
      // The run is still waiting: an allowed approver can still decide, here from the UI's rejectPromotion dialog.
      const rejected = await sendUpdateFromUi(browser.page, 'rejectPromotion', { approver: 'bob', reason: 'not today' });
      expect(rejected).toMatchObject({ ok: true, result: { accepted: true, action: 'reject', approver: 'bob' } });
      const result = (await handle.result()) as RetrainingPipelineResult;
      await waitForWorkflowStatus(browser.page, 'Completed');
      expect(result.decision).toBe('reject');
      expect(result.reason).toBe('rejected by bob: not today');
    });
  });
});
