import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import {
  APPROVAL_FIXTURE,
  approvalFixtureStateQuery,
  type ApprovalDecision,
  type ApprovalFixtureInput,
} from './fixtures/approval-fixture-workflow';
import {
  findWorkflowsByQuery,
  launchChromium,
  openWorkflow,
  openWorkflowFromList,
  readCurrentDetails,
  readWorkflowStatus,
  sendSignalFromUi,
  sendUpdateFromUi,
  waitForWorkflowStatus,
  type ChromiumSession,
} from './temporal-ui';

// The issue asks for the approval to be given in the Temporal Web UI: these tests drive the UI
// the dev server serves, in headless Chromium, against a small fixture workflow that waits for
// approval the way the pipeline does (same search attributes, Updates with validators).

describe('approval in the Temporal Web UI (fixture workflow)', () => {
  const services = inject('services');
  const suffix = randomBytes(3).toString('hex');
  const taskQueue = `e2e-approval-ui-${suffix}`;
  const allowlist = ['alice', 'bob'];
  let connection: Connection;
  let client: Client;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let browser: ChromiumSession;
  const started: WorkflowHandle[] = [];

  beforeAll(async () => {
    installQuietRuntime();
    connection = await Connection.connect({ address: services.temporalAddress });
    client = new Client({ connection, namespace: services.namespace });
    nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
    // The UI lists an Update's handlers from a query the worker answers, so it must be polling.
    worker = await Worker.create({
      connection: nativeConnection,
      namespace: services.namespace,
      taskQueue,
      workflowsPath: path.join(__dirname, 'fixtures', 'approval-fixture-workflow.ts'),
    });
    workerRun = worker.run();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const handle of started) await handle.terminate('test finished').catch(() => {});
    await browser?.close();
    if (worker) {
      worker.shutdown();
      await workerRun;
    }
    await nativeConnection?.close();
    await connection?.close();
  });

  async function startFixture(name: string, model: string): Promise<WorkflowHandle<(input: ApprovalFixtureInput) => Promise<ApprovalDecision>>> {
    const handle = await client.workflow.start<(input: ApprovalFixtureInput) => Promise<ApprovalDecision>>(APPROVAL_FIXTURE, {
      taskQueue,
      // Slashes like the pipeline's ids (retrain/<model>/<day>): the UI must cope with them.
      workflowId: `approval-fixture/${model}/${name}`,
      args: [{ model, allowlist }],
      staticSummary: `Approval fixture for ${model}`,
    });
    started.push(handle);
    return handle;
  }

  /** With APPROVAL_UI_SCREENSHOTS=<dir>, the page is saved at each step (to look at what the UI showed). */
  function screenshotPath(name: string): string | undefined {
    const dir = process.env.APPROVAL_UI_SCREENSHOTS;
    return dir ? path.join(dir, `${name}.png`) : undefined;
  }

  async function snap(name: string): Promise<void> {
    const file = screenshotPath(name);
    if (file) await browser.page.screenshot({ path: file, fullPage: true });
  }

  function screenshotOnFailure(name: string): void {
    onTestFailed(async () => {
      const file = path.join(tmpdir(), `approval-fixture-ui-${name}.png`);
      await browser.page.screenshot({ path: file, fullPage: true }).catch(() => {});
      process.stderr.write(`[approval-fixture-ui] screenshot of the failing page: ${file}\n`);
    });
  }

  it('finds the waiting run by its search attributes and approves it from the UI', { timeout: 60_000 }, async () => {
    screenshotOnFailure('approve');
    const { page } = browser;
    const model = `fixture-approve-${suffix}`;
    const handle = await startFixture('approve', model);
    const query = `RetrainAwaitingApproval = true AND RetrainModel = "${model}"`;

    // Typed into the UI's raw query box, as an engineer would; visibility may lag the start.
    const waiting = await findWorkflowsByQuery(page, services.temporalUiUrl, services.namespace, query, {
      via: 'queryBox',
      until: (rows) => rows.some((row) => row.workflowId === handle.workflowId),
    });
    expect(waiting).toEqual([handle.workflowId]);
    await snap('1-list-by-search-attribute');
    await openWorkflowFromList(page, handle.workflowId);
    expect(await readWorkflowStatus(page)).toBe('Running');

    const details = await readCurrentDetails(page);
    expect(details?.text).toContain(`Approval needed: ${model}`);
    expect(details?.text).toMatch(/AUC\s+0\.871 \[0\.862, 0\.880\]/);
    expect(details?.markdown).toContain(`## Approval needed: **${model}**`);
    await snap('2-current-details');

    const sent = await sendUpdateFromUi(page, 'approvePromotion', { approver: 'alice', reason: 'shadow results look good' }, { screenshot: screenshotPath('3-approve-sent') });
    expect(sent).toMatchObject({ ok: true, message: 'Update successful' });
    expect(sent.result).toEqual({ decision: 'approved', approver: 'alice', reason: 'shadow results look good' });
    expect(sent.updateId).toBeTruthy();

    // The run moves on: it completes with alice's approval, and no longer waits.
    await expect(handle.result()).resolves.toEqual({ decision: 'approved', approver: 'alice', reason: 'shadow results look good' });
    await waitForWorkflowStatus(page, 'Completed');
    // Current details are read when the page loads; after a reload they show the decision.
    expect((await readCurrentDetails(page, { reload: true }))?.text).toContain(`${model}: approved by alice`);
    await snap('3-completed');
    const stillWaiting = await findWorkflowsByQuery(page, services.temporalUiUrl, services.namespace, query, { until: (rows) => rows.length === 0 });
    expect(stillWaiting).toEqual([]);
  });

  it('refuses an approver who is not on the allowlist, shows why, and keeps waiting', { timeout: 60_000 }, async () => {
    screenshotOnFailure('refuse');
    const { page } = browser;
    const model = `fixture-refuse-${suffix}`;
    const handle = await startFixture('refuse', model);
    const query = `RetrainAwaitingApproval = true AND RetrainModel = "${model}"`;

    const waiting = await findWorkflowsByQuery(page, services.temporalUiUrl, services.namespace, query, {
      via: 'url',
      until: (rows) => rows.some((row) => row.workflowId === handle.workflowId),
    });
    expect(waiting).toEqual([handle.workflowId]);
    await openWorkflow(page, services.temporalUiUrl, services.namespace, handle.workflowId);

    const refused = await sendUpdateFromUi(page, 'approvePromotion', { approver: 'mallory', reason: 'trust me' }, { screenshot: screenshotPath('4-refused') });
    expect(refused).toMatchObject({ ok: false, message: "approver 'mallory' is not on the allowlist (alice, bob)" });

    // A validator's refusal leaves no trace in the history: the run still waits, still listed.
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(await handle.query(approvalFixtureStateQuery)).toMatchObject({ awaitingApproval: true });
    expect(await readWorkflowStatus(page)).toBe('Running');
    expect(await findWorkflowsByQuery(page, services.temporalUiUrl, services.namespace, query)).toEqual([handle.workflowId]);

    // A Signal from the UI reaches it too (no validator, no reply), and an allowed approver can still decide.
    await openWorkflow(page, services.temporalUiUrl, services.namespace, handle.workflowId);
    const noted = await sendSignalFromUi(page, 'addApprovalNote', { author: 'mallory', note: 'asked for approval' });
    expect(noted.ok).toBe(true);
    await expect.poll(async () => (await handle.query(approvalFixtureStateQuery)).notes).toEqual([{ author: 'mallory', note: 'asked for approval' }]);

    const rejected = await sendUpdateFromUi(page, 'rejectPromotion', { approver: 'bob', reason: 'not without a second look' });
    expect(rejected).toMatchObject({ ok: true, result: { decision: 'rejected', approver: 'bob' } });
    await expect(handle.result()).resolves.toMatchObject({ decision: 'rejected', approver: 'bob' });
  });
});

let runtimeInstalled = false;

/** Worker lifecycle logs drown test output; keep warnings and errors (once per process). */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Another file in this process installed one already.
  }
  runtimeInstalled = true;
}
