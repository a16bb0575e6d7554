import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { listApprovalEvents } from '../../lib/db/repositories/approvals';
import { setApproverPolicy } from '../../lib/db/repositories/approver-policies';
import { RETRAINING_PIPELINE, retrainingPipelineId, type CanaryProgress, type RetrainingPipelineResult } from '../../workflows/definitions';
import { labelledRequestsFromDay, startLabelledTraffic } from '../../lib/traffic/labelled-traffic';
import { findFreePort } from '../../lib/dev-stack/free-port';
import { formatMetric } from '../../lib/stats/metric-format';
import { METRICS } from '../../lib/stats/metrics';
import { HTML_REPORT_CONTENT_TYPE } from '../../lib/store/report-links';
import { fastSafePromotion } from '../fixtures/live-promotion-spec';
import { flightDelayOnHarness } from '../integration/flight-delay-on-harness';
import { createPipelineHarness, type PipelineHarness } from '../integration/pipeline-harness';
import {
  clickCurrentDetailsLink,
  findWorkflowsByQuery,
  launchChromium,
  openWorkflowFromList,
  readCurrentDetails,
  readWorkflowStatus,
  sendUpdateFromUi,
  waitForWorkflowStatus,
  type ChromiumSession,
} from './temporal-ui';



const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A number as the details show it ("0.612", "+0.003", "-0.004"). */
const NUMBER = '[-+]?\\d+\\.\\d+';
const INTERVAL = `${NUMBER} \\(${NUMBER}\\.\\.${NUMBER}\\)`;

/**
 * The offline table and the shadow's probability metrics as the engineer reads them in Current
 * Details (a rendered table's text has its cells separated by white space): every offline metric
 * with both models, the difference with its interval and the verdict; log loss, Brier score and
 * ROC AUC of the shadow with their intervals, the allowance and the verdict.
 */
function expectEvidence(text: string | undefined) {
  expect(text).toBeDefined();
  const [offline, shadow] = text!.split(/Shadow: (?:passed|FAILED)/);
  expect(shadow, `the details have a shadow section:\n${text}`).toBeDefined();
  expect(offline).toMatch(/Offline evaluation on 2001-01-\d\d \([\d,]+ held-out rows\)/);
  for (const metric of METRICS) {
    const row = new RegExp(`${escapeRegExp(metric.label)}\\s+(higher|lower)\\s+${NUMBER}\\s+${NUMBER}\\s+${INTERVAL}\\s+(better|worse|no clear difference)`);
    expect(offline, metric.label).toMatch(row);
  }
  expect(offline).toMatch(/Gates \(\d+\):/);
  expect(shadow).toMatch(/Probability metrics on [\d,]+ labelled requests both models scored/);
  for (const label of ['log loss', 'Brier score', 'ROC AUC']) {
    expect(shadow, label).toMatch(new RegExp(`${label}\\s+(higher|lower)\\s+${NUMBER}\\s+${NUMBER}\\s+${INTERVAL}\\s+${NUMBER}\\s+(not worse|worse)`));
  }
  expect(shadow).toMatch(/Kolmogorov–Smirnov statistic\s+\d\.\d+/);
}

// The approval an on-call engineer gives in the Temporal Web UI, on the real pipeline: found through
// its search attributes, approved with the approvePromotion Update from the UI's own dialog.
describe('approving a real pipeline run in the Temporal Web UI', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let gateway: Gateway;
  let browser: ChromiumSession;
  let traffic: ReturnType<typeof startLabelledTraffic>;
  /** The gateway's port, known before the workers start: they make the report links under it. */
  let port: number;

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
    port = await findFreePort();
    harness = await createPipelineHarness('e2e-approval', { reportsBaseUrl: `http://127.0.0.1:${port}` });
    spec = {
      ...(await flightDelayOnHarness(harness, { name: 'flight-delay-ui', days: { from: '2001-01-02', to: '2001-01-11' } })),
      // The shadow's quality gates are off (this test is about what the engineer sees), but its probability metrics are measured and shown.
      promotion: fastSafePromotion({ approvers: ['alice', 'bob'], shadow: { minProbabilityLabels: 50 } }),
    };
    // Who may approve is configured for the model (`retrain approvers set`), not taken from the spec.
    await setApproverPolicy(harness.deps.db, { model: spec.name, approvers: ['alice', 'bob'], changedBy: 'e2e test', reason: 'the test on-call engineers' });
    await harness.withWorkers(() =>
      harness.client.workflow.execute(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(spec.name, '2001-01-09'), args: [{ spec, day: '2001-01-09' }] }),
    );
    const rows = await labelledRequestsFromDay(harness.deps, spec, '2001-01-09', 2000);
    gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth: { mode: 'open' } });
    const { url } = await gateway.start(port);
    traffic = startLabelledTraffic({ url, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 3, prefix: 'ui' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await traffic?.stop();
    await gateway?.close();
    await harness?.close();
  });

  it('finds the run awaiting approval by its search attribute, approves it from the UI, and the run goes on to the canary; the evidence stays and the report opens', async () => {
    await harness.withWorkers(async () => {
      const handle = await startAndWaitForApproval('2001-01-10', 'queryBox');
      // What the approver decides on is in the run's current details.
      const details = await readCurrentDetails(browser.page);
      expect(details?.text).toContain(`${spec.name} v2 is waiting for approval`);
      expect(details?.text).toMatch(/Approvers: alice, bob/);
      expectEvidence(details?.text);
      process.stderr.write(`[approval-ui] current details while waiting: ${details?.markdown?.length ?? 'n/a'} characters of Markdown, ${details?.text.length} of text\n`);
      const sent = await sendUpdateFromUi(browser.page, 'approvePromotion', { approver: 'alice', reason: 'approved in the UI' });
      expect(sent.ok, sent.message).toBe(true);
      const result = (await handle.result()) as RetrainingPipelineResult;
      expect(result.live?.approval).toMatchObject({ action: 'approve', approver: 'alice' });
      // The run moved on to the canary; its verdict is the canary analysis' business (tested in live-promotion).
      expect(result.live?.canary?.stages[0]?.percent, result.reason).toBe(50);

      // After the decision the evidence is still there, with who decided and why, and the canary's stages.
      // (A closed run's current details are answered by a worker replaying its history: the workers still run.)
      await waitForWorkflowStatus(browser.page, 'Completed');
      const after = await readCurrentDetails(browser.page, { reload: true });
      expectEvidence(after?.text);
      expect(after?.text).toMatch(/Approved by alice at 2\d{3}-\d\d-\d\d \d\d:\d\d:\d\d UTC: approved in the UI\./);
      expect(after?.text).toMatch(/Canary: (v2 promoted|rolled back)/);
      // The canary told the pipeline run its progress (stage starts and analyses) while it ran.
      const signals = (await handle.fetchHistory()).events?.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'canaryProgress') ?? [];
      const progress = signals.map((e) => JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.data!).toString('utf8')) as CanaryProgress);
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress[0]).toMatchObject({ candidateVersion: 2, championVersion: 1, plan: [50, 100], current: { stage: 1, percent: 50 } });

      // The report link opens the report as a page (not a download), served by the gateway.
      const opened = await clickCurrentDetailsLink(browser.page, 'Evaluation report');
      expect(opened.kind, opened.href).toBe('page');
      if (opened.kind !== 'page') return;
      expect(opened.href).toBe(`http://127.0.0.1:${port}/${result.evaluation.report!.key}`);
      expect(opened.status).toBe(200);
      expect(opened.contentType).toBe(HTML_REPORT_CONTENT_TYPE);
      expect(opened.text).toContain('candidate v2 vs champion v1');
      expect(opened.text).toContain(formatMetric(result.metrics.candidate.auc));
      await opened.page.close();
    });
  });

  it('refuses an approver who is not on the allowlist with a message the UI shows, keeps waiting, and takes a rejection from the UI', async () => {
    await harness.withWorkers(async () => {
      const handle = await startAndWaitForApproval('2001-01-11', 'url');
      const refused = await sendUpdateFromUi(browser.page, 'approvePromotion', { approver: 'mallory' });
      expect(refused.ok).toBe(false);
      expect(refused.message).toContain("approver 'mallory' is not on the allowlist (alice, bob)");
      // A refusal is an answer, not a fault: no stack trace with the worker's file paths below it.
      expect(refused.alertText).not.toMatch(/\.ts:\d+|\.js:\d+|\n\s*at /);
      expect(await readWorkflowStatus(browser.page)).toMatch(/running/i);
      expect((await listApprovalEvents(harness.deps.db, handle.workflowId)).map((e) => [e.action, e.approver])).toEqual([
        ['awaiting', null],
        ['refused', 'mallory'],
      ]);
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
