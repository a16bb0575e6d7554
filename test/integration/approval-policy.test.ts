import { ActivityFailure, ApplicationFailure, WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { listRefusalCounts } from '../../lib/db/repositories/approval-refusals';
import { listApprovalEvents } from '../../lib/db/repositories/approvals';
import { getApproverPolicy, listApproverPolicyChanges } from '../../lib/db/repositories/approver-policies';
import { getDeployment } from '../../lib/db/repositories/deployments';
import { RECORDED_REFUSALS_PER_MINUTE } from '../../lib/policy/approver-check';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { labelledRequestsFromDay, startLabelledTraffic } from '../../lib/traffic/labelled-traffic';
import { approvePromotionUpdate, rejectPromotionUpdate, RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineInput, type RetrainingPipelineResult } from '../../workflows/definitions';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';
import { fastSafePromotion, NO_GATES } from '../fixtures/live-promotion-spec';

const ONE_MB = 1 << 20;

/**
 * Who may approve comes from the model's approver policy, set by an operator with an audited
 * command, never from the spec of whoever starts the run; refused requests are rejected by the
 * Update validator, so they write nothing to the run's history, and are recorded in `approvals`
 * with bounded reasons at a bounded rate. Real Temporal, Postgres, S3 and gateway.
 */
describe('approvals that the starter of a run cannot forge', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let gateway: Gateway;
  let traffic: ReturnType<typeof startLabelledTraffic>;

  const startPipeline = (input: RetrainingPipelineInput) =>
    harness.client.workflow.start(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(input.spec.name, input.day), args: [input] });

  /** Runs `retrain <args>` (bin/retrain.cjs, as an operator would) against the test's services. */
  const retrain = (...args: string[]) => harness.retrain(args);

  async function waitForStage(handle: WorkflowHandle, stage: string): Promise<void> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') throw new Error(`the run ended (${status.name}) before ${stage}: ${JSON.stringify(await handle.result().catch((e: unknown) => String(e)))}`);
      const state = (await handle.query('pipelineState')) as { stage: string };
      if (state.stage === stage) return;
      if (Date.now() > deadline) throw new Error(`the run did not reach ${stage} (it is at ${state.stage})`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The message a refused Update fails with, as the caller sees it. */
  async function refusal(handle: WorkflowHandle, update: typeof approvePromotionUpdate, payload: { approver: string; reason?: string }): Promise<string> {
    const err = await handle.executeUpdate(update, { args: [payload] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return (err as WorkflowUpdateFailedError).cause?.message ?? '';
  }

  /** The workflow ids a visibility query lists, once it lists `expected` of them (visibility lags a little), or after 10 s. */
  async function workflowIds(query: string, expected: number): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ids: string[] = [];
      for await (const execution of harness.client.workflow.list({ query })) ids.push(execution.workflowId);
      if (ids.length === expected || Date.now() > deadline) return ids;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The size of the run's history as Temporal stores it (protobuf bytes). */
  async function historyBytes(handle: WorkflowHandle): Promise<number> {
    return temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish().byteLength;
  }

  beforeAll(async () => {
    harness = await createPipelineHarness('approvals');
    spec = {
      ...(await flightDelayOnHarness(harness, { name: 'flight-delay-approvals', days: { from: '2001-01-02', to: '2001-01-12' } })),
      gates: NO_GATES,
      promotion: fastSafePromotion(),
    };
    // The operator configures who may approve, with the audited command.
    const set = await retrain('approvers', 'set', '--model', spec.name, 'alice', 'bob', '--by', 'carol', '--reason', 'on-call rotation of December');
    expect(set).toMatchObject({ code: 0, stdout: `approvers of ${spec.name}: alice, bob (revision 1, set by carol: on-call rotation of December)\n` });
    const first = await harness.runPipeline({ spec, day: '2001-01-09' });
    expect(first.decision).toBe('promote');
    const rows = await labelledRequestsFromDay(harness.deps, spec, '2001-01-09', 2000);
    gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth: { mode: 'open' }, log: pino({ level: 'silent' }) });
    const { url } = await gateway.start(0);
    traffic = startLabelledTraffic({ url, model: spec.name, requests: rows, keepRequestIds: true, concurrency: 3, prefix: 'approvals' });
  });

  afterAll(async () => {
    await traffic?.stop();
    await gateway?.close();
    await harness?.close();
  });

  it('a run whose spec names mallory as approver is refused at its start, and mallory cannot approve it', async () => {
    const forged: ModelSpec = { ...spec, promotion: { ...spec.promotion, approval: { ...spec.promotion.approval, approvers: ['mallory'] } } };
    const champion = (await getDeployment(harness.deps.db, spec.name))?.championVersionId;
    await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec: forged, day: '2001-01-10' });
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const failure = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
      expect(failure.type).toBe('ApproverNotConfigured');
      expect(failure.message).toBe(
        `the spec of '${spec.name}' names 'mallory' in promotion.approval.approvers, not among the approvers configured for the model (alice, bob; revision 1): ` +
          'a spec may only narrow that list. Remove the name, or have an operator add it with retrain approvers set',
      );
      // Nothing waits: mallory's approval has nothing to approve.
      await expect(handle.executeUpdate(approvePromotionUpdate, { args: [{ approver: 'mallory' }] })).rejects.toThrow();
    });
    expect(await listApprovalEvents(harness.deps.db, retrainingPipelineId(spec.name, '2001-01-10'))).toEqual([]);
    expect((await getDeployment(harness.deps.db, spec.name))?.championVersionId).toBe(champion);
  });

  it('refuses mallory and 100 requests with 1 MB reasons in the validator: the history does not grow, the refusals are recorded bounded and rate-limited', async () => {
    const result = (await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec, day: '2001-01-10' });
      await waitForStage(handle, 'awaiting-approval');
      expect(await refusal(handle, approvePromotionUpdate, { approver: 'mallory', reason: 'I started this run' })).toBe("approver 'mallory' is not on the allowlist (alice, bob)");

      // Runs of the new code are found by the patch id Temporal indexes (docs/changing-workflows.md).
      expect(await workflowIds(`WorkflowId = '${handle.workflowId}' AND TemporalChangeVersion = 'approvers-from-policy'`, 1)).toEqual([handle.workflowId]);
      expect(await workflowIds(`WorkflowId = '${handle.workflowId}' AND ExecutionStatus = 'Running' AND RetrainAwaitingApproval = true AND TemporalChangeVersion IS NULL`, 0)).toEqual([]);

      const before = await historyBytes(handle);
      const huge = 'x'.repeat(ONE_MB);
      const started = Date.now();
      const messages = new Set<string>();
      for (let i = 0; i < 100; i++) messages.add(await refusal(handle, i % 2 ? rejectPromotionUpdate : approvePromotionUpdate, { approver: 'mallory', reason: huge }));
      const after = await historyBytes(handle);
      // Under Temporal's 4 MB gRPC limit, so the request reaches the validator, which refuses it as too large.
      expect([...messages]).toEqual([`the reason is ${ONE_MB} characters long; at most 2000 are accepted`]);
      expect(await refusal(handle, approvePromotionUpdate, { approver: 'm'.repeat(5000) })).toBe('the approver name is 5000 characters long; at most 100 are accepted');
      process.stderr.write(`[approvals] 100 refused 1 MB requests in ${Date.now() - started} ms; history ${before} -> ${after} bytes (+${after - before})\n`);
      expect(after - before).toBeLessThan(ONE_MB);
      expect(after - before).toBeLessThan(10_000);

      // The run still waits, and an allowed approver decides.
      await handle.executeUpdate(rejectPromotionUpdate, { args: [{ approver: 'alice', reason: 'testing the refusals' }] });
      const done = (await handle.result()) as RetrainingPipelineResult;
      await harness.recordHistory(handle.workflowId, 'retraining-pipeline-approval-from-policy');
      const { events } = await handle.fetchHistory();
      // Only the accepted decision is an Update in the history; no refusal is.
      expect(events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length).toBe(1);
      return done;
    })) as RetrainingPipelineResult;
    expect(result.reason).toBe('rejected by alice: testing the refusals');

    const events = await listApprovalEvents(harness.deps.db, result.workflowId);
    const refused = events.filter((e) => e.action === 'refused');
    const counts = await listRefusalCounts(harness.deps.db, result.workflowId);
    // Every refusal is counted; at most RECORDED_REFUSALS_PER_MINUTE a minute have a row of their own.
    expect(counts.reduce((n, c) => n + c.refusals, 0)).toBe(102);
    expect(refused.length).toBe(counts.reduce((n, c) => n + Math.min(c.refusals, RECORDED_REFUSALS_PER_MINUTE), 0));
    expect(refused.length).toBeLessThanOrEqual(RECORDED_REFUSALS_PER_MINUTE * counts.length);
    expect(refused[0]).toMatchObject({ approver: 'mallory', reason: "approvePromotion refused: approver 'mallory' is not on the allowlist (alice, bob); reason given (18 characters): I started this run" });
    for (const e of refused) {
      expect(e.reason.length).toBeLessThanOrEqual(500);
      expect((e.approver ?? '').length).toBeLessThanOrEqual(100);
    }
    expect(refused[1]?.reason).toMatch(/^approvePromotion refused: the reason is 1048576 characters long; at most 2000 are accepted; reason given \(1048576 characters\): x+…$/);
    expect(events.at(-1)).toMatchObject({ action: 'reject', approver: 'alice' });
  });

  it("narrows to the spec's names and follows the policy while the run waits", async () => {
    harness.deps.approverPolicyRefreshSeconds = 1;
    const narrowed: ModelSpec = { ...spec, promotion: { ...spec.promotion, approval: { ...spec.promotion.approval, approvers: ['alice'] } } };
    await harness.withWorkers(async () => {
      const handle = await startPipeline({ spec: narrowed, day: '2001-01-11' });
      await waitForStage(handle, 'awaiting-approval');
      expect(await refusal(handle, approvePromotionUpdate, { approver: 'bob' })).toBe("approver 'bob' is not on the allowlist (alice)");

      // alice leaves the rotation: within a refresh the waiting run no longer takes her decision.
      expect((await retrain('approvers', 'set', '--model', spec.name, 'bob', 'dave', '--by', 'carol', '--reason', 'alice is on leave')).code).toBe(0);
      // dave is refused either way (not named by the spec), so probing with him decides nothing.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const message = await refusal(handle, approvePromotionUpdate, { approver: 'dave' });
        if (message.startsWith('nobody may approve')) break;
        expect(message).toBe("approver 'dave' is not on the allowlist (alice)");
        if (Date.now() > deadline) throw new Error('the run never read the changed policy');
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(await refusal(handle, approvePromotionUpdate, { approver: 'alice' })).toBe(`nobody may approve: none of the approvers this run's spec names (alice) is configured for model '${spec.name}' (configured: bob, dave)`);

      // Back on the rotation: her decision is taken again.
      expect((await retrain('approvers', 'set', '--model', spec.name, 'alice', 'bob', '--by', 'carol', '--reason', 'alice is back')).code).toBe(0);
      const back = Date.now() + 20_000;
      for (;;) {
        const accepted = await handle.executeUpdate(rejectPromotionUpdate, { args: [{ approver: 'alice', reason: 'back' }] }).catch(() => undefined);
        if (accepted) break;
        if (Date.now() > back) throw new Error('alice was never allowed again');
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(((await handle.result()) as RetrainingPipelineResult).reason).toBe('rejected by alice: back');
    });
    harness.deps.approverPolicyRefreshSeconds = undefined;
  });

  it('records every change of the approvers with who, when and why, however it is made', async () => {
    const show = await retrain('approvers', 'show', '--model', spec.name);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^approvers of ${spec.name}: alice, bob \\(revision 3\\)`));
    expect(show.stdout).toMatch(/2 +\S+ +carol +\S+ +bob, dave +alice is on leave/);
    expect((await retrain('approvers', 'set', '--model', spec.name, 'alice', '--by', 'carol')).code).toBe(1);
    expect((await retrain('approvers', 'set', '--model', spec.name, 'alice', '--by', ' ', '--reason', 'r')).stderr).toContain('who makes the change is required (--by)');

    // Even a change by hand in SQL is recorded (by the table's trigger), and nobody deletes a policy.
    await sql`update approver_policies set approvers = '{alice,bob,erin}', revision = revision + 1, updated_by = 'dba', reason = 'by hand' where model = ${spec.name}`.execute(harness.deps.db);
    await expect(sql`delete from approver_policies where model = ${spec.name}`.execute(harness.deps.db)).rejects.toThrow(/approver policies are not deleted/);
    const changes = await listApproverPolicyChanges(harness.deps.db, spec.name);
    expect(changes.map((c) => [c.revision, c.before, c.after, c.changedBy, c.reason])).toEqual([
      [1, null, ['alice', 'bob'], 'carol', 'on-call rotation of December'],
      [2, ['alice', 'bob'], ['bob', 'dave'], 'carol', 'alice is on leave'],
      [3, ['bob', 'dave'], ['alice', 'bob'], 'carol', 'alice is back'],
      [4, ['alice', 'bob'], ['alice', 'bob', 'erin'], 'dba', 'by hand'],
    ]);
    expect(changes.every((c) => c.databaseUser.length > 0)).toBe(true);
    expect((await getApproverPolicy(harness.deps.db, spec.name))?.approvers).toEqual(['alice', 'bob', 'erin']);
  });

  it('a safe run that would need an approval is refused at its start when nobody is configured to approve, saying how to configure them', async () => {
    const unconfigured: ModelSpec = { ...spec, name: `${spec.name}-none` };
    // The first champion is promoted directly: it needs no approval, so no approvers either.
    expect((await harness.runPipeline({ spec: unconfigured, day: '2001-01-09' })).decision).toBe('promote');
    const failure = await harness.runPipeline({ spec: unconfigured, day: '2001-01-10' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ActivityFailure);
    const application = cause?.cause as ApplicationFailure;
    expect(application).toBeInstanceOf(ApplicationFailure);
    expect(application.type).toBe('ApproverNotConfigured');
    expect(application.message).toBe(
      `promotion.strategy is 'safe' but nobody is configured to approve '${unconfigured.name}': an operator names the approvers first, ` +
        `\`retrain approvers set --model ${unconfigured.name} <name>... --by <you> --reason <why>\` (or set promotion.strategy to 'direct')`,
    );
  });
});
