import { ActivityFailure, condition, getExternalWorkflowHandle, isCancellation, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { CanaryRolloutInputSchema } from '../lib/spec/workflow-inputs';
import { approverRefusal } from '../lib/policy/approver-check';
import { judgeCanaryStage, type CanaryObservation } from '../lib/policy/canary-stage-analysis';
import { canaryProgressStarting, renderCanaryEvidence, type CanaryProgress } from '../lib/evidence/canary-evidence';
import { activityOptions } from './activity-options';
import {
  CANARY_ROLLOUT,
  canaryProgressSignal,
  canaryStateQuery,
  rollbackUpdate,
  type CanaryRolloutInput,
  type CanaryRolloutResult,
  type CanaryStageRecord,
  type CanaryState,
  type PromotionDecisionInput,
} from './definitions';
import { refusalError } from './refusal-error';
import { validateWorkflowInput } from './workflow-input';

// The workflow runs on the control queue (the pipeline's), whose workers run these activities.
const activities = proxyActivities<ControlActivities>(activityOptions.liveStep);
const { rollbackCanary } = proxyActivities<Pick<ControlActivities, 'rollbackCanary'>>(activityOptions.trafficRollback);
const { recordApprovalEvent } = proxyActivities<Pick<ControlActivities, 'recordApprovalEvent'>>(activityOptions.bookkeeping);

/** Whether the canary was rolled back by someone's request, recorded in `approvals` (Temporal patch id: the record added a command). */
const RECORD_ROLLBACK_APPROVAL = 'record-rollback-approval';

/**
 * Temporal patch id: the canary signals its progress (canaryProgressSignal) to the pipeline run
 * it is a child of, so the pipeline's current details show the stage, share, bake time left and
 * each analysis. The signals are new commands; runs that started before keep sending none.
 */
export const CANARY_PROGRESS_TO_PARENT = 'canary-progress-to-parent';

/** While a stage waits, its analyses reach the parent at most this often (each signal adds events to both histories). */
const PROGRESS_SIGNAL_INTERVAL_MS = 30_000;

/**
 * Moves traffic to the candidate in stages (e.g. 1, 5, 25, 50, 100 %). Each
 * stage bakes, then is analysed against the champion over the same period
 * (errors, p99 latency, and a sequential test on labelled feedback); a failure
 * or a `rollback` request sends all traffic back to the champion at once.
 * Passing the last stage makes the candidate the champion. A requested rollback is recorded
 * in `approvals` (who, why); a step that fails for good also sends the traffic back first.
 */
export async function canaryRollout(input: CanaryRolloutInput): Promise<CanaryRolloutResult> {
  validateWorkflowInput(CANARY_ROLLOUT, CanaryRolloutInputSchema, input);
  const { workflowId, parent } = workflowInfo();
  const { spec } = input;
  // Called once, before the first command: a run recorded before it (no marker) sends no progress to the end.
  const progressToParent = patched(CANARY_PROGRESS_TO_PARENT) ? parent : undefined;
  const progress: CanaryProgress = canaryProgressStarting(spec, input.candidateVersion, input.championVersion);
  const showProgress = () => setCurrentDetails(renderCanaryEvidence(progress));
  let progressSentAt = -Infinity;
  /** Sends the progress to the pipeline run (ended stages without their observations: the result carries those). */
  const tellParent = (force: boolean) => {
    if (!progressToParent || (!force && Date.now() - progressSentAt < PROGRESS_SIGNAL_INTERVAL_MS)) return;
    progressSentAt = Date.now();
    const sent: CanaryProgress = { ...progress, stages: progress.stages.map((st) => ({ ...st, observation: null })) };
    // The pipeline's details are a view: a signal that cannot be delivered never stops the canary.
    getExternalWorkflowHandle(progressToParent.workflowId, progressToParent.runId).signal(canaryProgressSignal, sent).catch(() => undefined);
  };
  const state: CanaryState = { stage: 0, percent: 0, message: 'starting' };
  let rollbackRequest: (PromotionDecisionInput & { approver: string }) | undefined;
  let finished = false;
  setHandler(canaryStateQuery, () => state);
  setHandler(
    rollbackUpdate,
    async (request) => {
      rollbackRequest = { ...request, approver: request.approver.trim() };
      return { accepted: true, action: 'rollback', approver: rollbackRequest.approver };
    },
    {
      validator: (request) => {
        const refusal = approverRefusal(request?.approver, input.approvers);
        if (refusal) throw refusalError(refusal);
        if (finished) throw refusalError('the canary has finished: nothing to roll back');
      },
      description: 'Roll the canary back now: all traffic returns to the champion. Payload: {"approver": "<your name>", "reason": "..."}',
    },
  );

  const stages: CanaryStageRecord[] = [];
  progress.stages = stages;
  let rollingBack = false;
  const rollback = async (reason: string, observation: CanaryObservation | null): Promise<CanaryRolloutResult> => {
    finished = true;
    rollingBack = true;
    const requested = rollbackRequest;
    // Histories recorded before the rollback record existed replay the old path: one traffic move, no approvals row.
    if (requested && patched(RECORD_ROLLBACK_APPROVAL)) {
      // Traffic first (the user-facing part), then the record of who asked and why.
      await rollbackCanary({ versionId: input.candidateVersionId, reason, workflowId, requestedBy: requested.approver });
      await recordApprovalEvent({
        workflowId,
        eventKey: 'rollback',
        model: input.model,
        modelVersionId: input.candidateVersionId,
        action: 'rollback',
        approver: requested.approver,
        reason: requested.reason?.trim() || reason,
      });
    } else {
      await rollbackCanary({ versionId: input.candidateVersionId, reason, workflowId });
    }
    stages.push({ percent: state.percent, verdict: rollbackRequest ? 'rollback' : 'fail', reason, observation });
    state.message = `rolled back: ${reason}`;
    progress.current = null;
    progress.outcome = { outcome: 'rolled_back', reason };
    showProgress();
    return { outcome: 'rolled_back', reason, stages, championVersion: input.championVersion };
  };

  try {
    let canarySince: string | undefined;
    for (const [index, percent] of spec.stages.entries()) {
      state.stage = index + 1;
      state.percent = percent;
      if (percent === 100) break;
      const { since } = await activities.setCanaryTraffic({ versionId: input.candidateVersionId, percent, stage: index + 1, stages: spec.stages.length, workflowId });
      canarySince ??= since;
      const stageStarted = Date.now();
      progress.current = { stage: index + 1, percent, startedAt: new Date(stageStarted).toISOString(), elapsedSeconds: 0, analysis: null, observation: null };
      showProgress();
      tellParent(true);
      let observation: CanaryObservation | null = null;
      let firstAnalysis = true;
      for (;;) {
        // Waits for the next analysis, or wakes at once when someone asks for a rollback.
        await condition(() => rollbackRequest !== undefined, spec.pollSeconds * 1000);
        if (rollbackRequest) return rollback(`rollback requested by ${rollbackRequest.approver}${rollbackRequest.reason ? `: ${rollbackRequest.reason}` : ''}`, observation);
        const observed = await activities.observeCanaryStage({
          model: input.model,
          canaryVersionId: input.candidateVersionId,
          championVersionId: input.championVersionId,
          stageSince: since,
          canarySince,
          spec,
        });
        observation = observed.observation;
        const verdict = judgeCanaryStage(observation, spec, (Date.now() - stageStarted) / 1000);
        state.message = `${percent}%: ${verdict.verdict}: ${verdict.reason}`;
        progress.current = { ...progress.current, elapsedSeconds: (Date.now() - stageStarted) / 1000, analysis: { ...verdict, at: new Date().toISOString() }, observation };
        showProgress();
        // A passed stage reaches the parent with the next stage's start, a failed one with the result.
        if (verdict.verdict === 'wait') tellParent(firstAnalysis);
        firstAnalysis = false;
        if (verdict.verdict === 'fail') return rollback(verdict.reason, observation);
        if (verdict.verdict === 'pass') {
          stages.push({ percent, verdict: 'pass', reason: verdict.reason, observation });
          break;
        }
      }
    }
    finished = true;
    const reason = `canary passed ${stages.length} stages (${stages.map((s) => `${s.percent}%`).join(', ')})`;
    const { championVersion } = await activities.completeCanary({ versionId: input.candidateVersionId, reason, workflowId });
    state.message = `promoted: ${reason}`;
    stages.push({ percent: 100, verdict: 'pass', reason: 'all traffic on the candidate: it is the champion', observation: null });
    progress.current = null;
    progress.outcome = { outcome: 'promoted', reason };
    showProgress();
    return { outcome: 'promoted', reason, stages, championVersion };
  } catch (err) {
    // A forward step (traffic move, analysis, crowning) failed for good: the candidate must not keep
    // serving unwatched. Cancellation is left to the caller; a failed rollback is not retried here.
    if (rollingBack || isCancellation(err)) throw err;
    await rollbackCanary({ versionId: input.candidateVersionId, reason: `canary step failed: ${failureMessage(err)}`, workflowId }).catch(() => undefined);
    throw err;
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
