import {
  ApplicationFailure,
  condition,
  currentUpdateInfo,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import type { ApproverPolicySnapshot } from '../activities/approval';
import type { ModelSpec } from '../lib/spec/model-spec';
import { canaryProgressFromResult, canaryProgressStarting } from '../lib/evidence/canary-evidence';
import type { RunEvidence } from '../lib/evidence/run-details';
import { approverRefusal, decisionRequestRefusal, effectiveApprovers, refusalRecord, truncateText } from '../lib/policy/approver-check';
import type { NotificationEvent } from '../lib/notification/notification-event';
import { activityOptions } from './activity-options';
import { canaryRollout } from './canary-rollout';
import {
  approvePromotionUpdate,
  canaryProgressSignal,
  rejectPromotionUpdate,
  searchAttributes,
  type PromotionDecisionInput,
  type RefusedDecisionRequest,
  type RetrainSinks,
  type CanaryRolloutResult,
  type SafePromotionResult,
} from './definitions';
import { refusalError } from './refusal-error';
import { notify, promotionEvidence } from './promotion-notices';
import { shadowEvaluation } from './shadow-evaluation';

// Runs inside retrainingPipeline, on the control queue.
const control = proxyActivities<ControlActivities>(activityOptions.bookkeeping);
const sinks = proxySinks<RetrainSinks>();

/**
 * Temporal patch id (docs/changing-workflows.md): the approval allowlist is the model's
 * configured approver policy (read by an activity, then again while waiting), narrowed by the
 * spec, and refused requests are rejected by the Update validator and recorded through the
 * approvals sink. Before it the allowlist was the spec's and the handler recorded each refusal
 * with an activity, which wrote every refused request (reason and all) into the history.
 */
export const APPROVERS_FROM_POLICY = 'approvers-from-policy';

/**
 * Temporal patch id: the run records an `awaiting` approval event when it starts waiting (the
 * `retrain_runs_awaiting_approval` gauge counts those) and notifies the configured webhooks
 * (sendNotification) that it waits, of each escalation, and of the canary's outcome (rolled back
 * or promoted). Called once, where the wait starts; a run that passed that point before the
 * patch (waiting when the worker was upgraded) notifies nobody, to its end.
 */
export const NOTIFY_PROMOTION_EVENTS = 'notify-promotion-events';

export interface SafePromotionInput {
  spec: ModelSpec;
  candidate: { id: string; version: number };
  champion: { id: string; version: number };
  holdoutDatasetId: string;
  /** The run's evidence (the pipeline's current details); the live path adds the shadow, the approval and the canary. */
  evidence: RunEvidence;
  /** Renders `evidence` into the run's current details. */
  showEvidence: () => void;
  setStage: (stage: 'shadow' | 'awaiting-approval' | 'canary', message: string) => void;
}

/**
 * Shadow, then approval, then canary: the live path of a candidate that passed
 * the offline gates. Runs inside retrainingPipeline, which is where the
 * approvePromotion / rejectPromotion Updates arrive.
 */
export async function promoteSafely(input: SafePromotionInput): Promise<SafePromotionResult> {
  const { spec, candidate, champion } = input;
  const { workflowId } = workflowInfo();
  const model = spec.name;

  input.setStage('shadow', `mirroring traffic to v${candidate.version}`);
  // Typed by the workflow function; its name is the workflow type (shadowEvaluation), as recorded histories name it.
  const shadow = await executeChild(shadowEvaluation, {
    workflowId: `${workflowId}/shadow`,
    args: [
      {
        model,
        candidateVersionId: candidate.id,
        candidateVersion: candidate.version,
        championVersionId: champion.id,
        championVersion: champion.version,
        holdoutDatasetId: input.holdoutDatasetId,
        spec: spec.promotion.shadow,
      },
    ],
  });
  input.evidence.shadow = { observation: shadow.observation, verdict: shadow.verdict, spec: spec.promotion.shadow };
  if (!shadow.verdict.passed) {
    return { decision: 'reject', reason: shadow.verdict.reason, championVersion: champion.version, shadow, approval: null, canary: null };
  }

  // Approval: the UI lists these Updates with their descriptions while a worker polls.
  let awaiting = true;
  let decided: { action: 'approve' | 'reject'; approver: string; reason: string } | undefined;
  // Workflow time of the decision, for the run's details.
  let decidedAt = '';
  let events = 0;
  // Runs that reached this point before the patch (recorded histories, runs waiting when the worker was upgraded)
  // keep the old path to the end: the spec's allowlist, and refusals recorded by the handler through an activity.
  const fromPolicy = patched(APPROVERS_FROM_POLICY);
  const namedBySpec = spec.promotion.approval.approvers;
  let allowlist: readonly string[] = namedBySpec;
  let policy: ApproverPolicySnapshot | undefined;
  let refreshMs = 0;
  const readPolicy = async () => {
    policy = await control.loadApproverPolicy({ model });
    allowlist = effectiveApprovers(policy.approvers ?? [], namedBySpec);
    refreshMs = Math.max(1, policy.refreshSeconds) * 1000;
  };
  if (fromPolicy) await readPolicy();
  const noApprovers = () =>
    !policy?.approvers
      ? `nobody may approve: no approvers are configured for model '${model}' (an operator sets them with: retrain approvers set --model ${model} <names> --by <name> --reason <why>)`
      : `nobody may approve: none of the approvers this run's spec names (${namedBySpec.join(', ')}) is configured for model '${model}' (configured: ${policy.approvers.join(', ')})`;
  const approversLine = () => {
    if (!fromPolicy) return `Approvers: ${allowlist.join(', ')}.`;
    if (allowlist.length === 0) return `Approvers: none. ${noApprovers()}.`;
    const narrowed = namedBySpec.length > 0 ? `, narrowed by the run's spec to ${namedBySpec.join(', ')}` : '';
    return `Approvers: ${allowlist.join(', ')}. (The model's approver policy, revision ${policy?.revision}${narrowed}; read again every ${Math.round(refreshMs / 1000)} s.)`;
  };

  const decide = (action: 'approve' | 'reject') => async (request: PromotionDecisionInput) => {
    const approver = request.approver.trim();
    const refusal = approverRefusal(approver, allowlist);
    if (refusal) {
      // Old path only (the new path's validator refused before the handler ran, with nothing written to history).
      if (!fromPolicy) await control.recordApprovalEvent({ workflowId, eventKey: `refused-${++events}`, model, modelVersionId: candidate.id, action: 'refused', approver, reason: refusal });
      throw ApplicationFailure.create({ type: 'ApproverNotAllowed', message: refusal, nonRetryable: true });
    }
    if (!awaiting || decided) throw ApplicationFailure.create({ type: 'NothingAwaitingApproval', message: 'nothing is awaiting approval', nonRetryable: true });
    decided = { action, approver, reason: request.reason ?? '' };
    decidedAt = new Date().toISOString();
    return { accepted: true as const, action, approver };
  };
  const specValidator = (request: PromotionDecisionInput) => {
    if (!awaiting || decided) throw refusalError('nothing is awaiting approval');
    if (typeof request?.approver !== 'string' || request.approver.trim() === '') throw refusalError(approverRefusal(undefined, allowlist) ?? 'name yourself');
  };
  /**
   * Refuses in the validator: nothing reaches the history, however many requests are refused or
   * however large. Each refusal goes to the worker through the approvals sink, which records it
   * (bounded reason, at most RECORDED_REFUSALS_PER_MINUTE rows a minute, the rest counted).
   */
  const policyValidator = (update: RefusedDecisionRequest['update']) => (request: PromotionDecisionInput) => {
    const refusal = !awaiting || decided ? 'nothing is awaiting approval' : decisionRequestRefusal(request, allowlist, noApprovers());
    if (refusal === null) return;
    const updateId = truncateText(currentUpdateInfo()?.id ?? 'unknown', 100);
    sinks.approvals.refused({ update, updateId, model, modelVersionId: candidate.id, ...refusalRecord(update, request, refusal) });
    throw refusalError(refusal);
  };
  const registerHandlers = () => {
    const payloadHelp = `Payload: {"approver": "<your name>", "reason": "..."}; approvers: ${allowlist.join(', ') || 'none'}`;
    setHandler(approvePromotionUpdate, decide('approve'), {
      validator: fromPolicy ? policyValidator('approvePromotion') : specValidator,
      description: `Approve ${model} v${candidate.version} for the canary rollout. ${payloadHelp}`,
    });
    setHandler(rejectPromotionUpdate, decide('reject'), {
      validator: fromPolicy ? policyValidator('rejectPromotion') : specValidator,
      description: `Reject ${model} v${candidate.version}: the champion stays. ${payloadHelp}`,
    });
  };
  registerHandlers();

  upsertSearchAttributes([{ key: searchAttributes.awaitingApproval, value: true }]);
  input.setStage('awaiting-approval', `waiting for approvePromotion or rejectPromotion from ${allowlist.join(', ') || 'nobody yet (no approvers configured)'}`);
  let note = '';
  const details = (newNote?: string) => {
    if (newNote !== undefined) note = newNote;
    input.evidence.approval = { approvers: approversLine(), note };
    input.showEvidence();
  };
  details('');
  // The new commands start here: the awaiting record, then a notification that is not waited for (the wait's timer starts now).
  const notifying = patched(NOTIFY_PROMOTION_EVENTS);
  const pendingNotices: Promise<void>[] = [];
  const notice = (event: NotificationEvent['event'], key: string, title: string, more: Partial<NotificationEvent> = {}): NotificationEvent => ({
    event,
    key,
    model,
    at: new Date().toISOString(),
    title,
    candidateVersion: candidate.version,
    championVersion: champion.version,
    ...promotionEvidence(offlineSummaryOf(input.evidence.offline), shadow.verdict.reason, allowlist),
    detail: null,
    actor: null,
    ...more,
  });
  if (notifying) {
    await control.recordApprovalEvent({ workflowId, eventKey: 'awaiting', model, modelVersionId: candidate.id, action: 'awaiting', approver: null, reason: `waiting for approvePromotion or rejectPromotion; ${approversLine()}` });
    pendingNotices.push(
      notify(
        notice('awaiting-approval', 'awaiting-approval', `${model} v${candidate.version} is waiting for approval`, {
          detail: `Send approvePromotion or rejectPromotion from the Temporal UI, or run: retrain approve --workflow-id ${workflowId} --approver <your name>`,
        }),
      ),
    );
  }
  /** Waits up to `ms` for a decision; on the policy path the allowlist is read again every refreshMs meanwhile. */
  const waitForDecision = async (ms: number): Promise<boolean> => {
    if (!fromPolicy) return condition(() => decided !== undefined, ms);
    const deadline = Date.now() + ms;
    for (;;) {
      if (await condition(() => decided !== undefined, Math.min(deadline - Date.now(), refreshMs))) return true;
      if (Date.now() >= deadline) return false;
      await readPolicy();
      registerHandlers();
      details();
    }
  };
  let approval: SafePromotionResult['approval'] = null;
  for (let escalations = 0; ; escalations++) {
    const answered = await waitForDecision(spec.promotion.approval.timeoutSeconds * 1000);
    if (answered) break;
    if (spec.promotion.approval.onTimeout === 'reject') {
      approval = { action: 'timeout', approver: null, reason: `no decision within ${spec.promotion.approval.timeoutSeconds} s` };
      await control.recordApprovalEvent({ workflowId, eventKey: 'timeout', model, modelVersionId: candidate.id, action: 'timeout', approver: null, reason: approval.reason });
      break;
    }
    await control.recordApprovalEvent({
      workflowId,
      eventKey: `escalated-${escalations + 1}`,
      model,
      modelVersionId: candidate.id,
      action: 'escalated',
      approver: null,
      reason: `no decision after ${(escalations + 1) * spec.promotion.approval.timeoutSeconds} s`,
    });
    details(`Escalated ${escalations + 1}×: no decision after ${(escalations + 1) * spec.promotion.approval.timeoutSeconds} s.`);
    if (notifying) {
      const waited = (escalations + 1) * spec.promotion.approval.timeoutSeconds;
      pendingNotices.push(notify(notice('approval-escalated', `escalated-${escalations + 1}`, `${model} v${candidate.version} has waited ${waited} s for approval (escalation ${escalations + 1})`, { detail: `no decision after ${waited} s` })));
    }
  }
  awaiting = false;
  upsertSearchAttributes([{ key: searchAttributes.awaitingApproval, value: false }]);
  const approvalEvidence = { approvers: approversLine(), note };
  if (approval) input.evidence.approval = { ...approvalEvidence, decision: { ...approval, at: new Date().toISOString() } };
  if (decided) {
    approval = decided;
    input.evidence.approval = { ...approvalEvidence, decision: { ...decided, at: decidedAt } };
    await control.recordApprovalEvent({ workflowId, eventKey: 'decision', model, modelVersionId: candidate.id, action: decided.action, approver: decided.approver, reason: decided.reason || decided.action });
  }
  if (!decided || decided.action === 'reject') {
    const reason = decided ? `rejected by ${decided.approver}${decided.reason ? `: ${decided.reason}` : ''}` : approval!.reason;
    if (notifying) await Promise.all(pendingNotices);
    return { decision: 'reject', reason, championVersion: champion.version, shadow, approval, canary: null };
  }

  // The canary reports its stages and analyses to this run (canaryProgressSignal); its result, at the end.
  input.evidence.canary = canaryProgressStarting(spec.promotion.canary, candidate.version, champion.version);
  let canaryEnded = false;
  setHandler(canaryProgressSignal, (progress) => {
    // A signal delivered after the child's result is older than the result: the result stays.
    if (canaryEnded) return;
    input.evidence.canary = progress;
    input.showEvidence();
  });
  input.setStage('canary', `approved by ${decided.approver}; canary stages ${spec.promotion.canary.stages.join(', ')} %`);
  let canary: CanaryRolloutResult;
  try {
    canary = await executeChild(canaryRollout, {
      workflowId: `${workflowId}/canary`,
      args: [
        {
          model,
          candidateVersionId: candidate.id,
          candidateVersion: candidate.version,
          championVersionId: champion.id,
          championVersion: champion.version,
          // Who may roll the canary back: the allowlist the approval was checked against.
          approvers: [...allowlist],
          spec: spec.promotion.canary,
        },
      ],
    });
  } catch (err) {
    // A canary whose step failed for good sent the traffic back before it failed (canary-rollout.ts).
    if (notifying && !isCancellation(err)) {
      pendingNotices.push(notify(notice('canary-rolled-back', 'canary-rolled-back', `canary of ${model} v${candidate.version} failed, and sends its traffic back to v${champion.version}`, { detail: failureText(err) })));
      await Promise.all(pendingNotices);
    }
    throw err;
  }
  canaryEnded = true;
  input.evidence.canary = canaryProgressFromResult(canary, spec.promotion.canary, candidate.version, champion.version);
  if (notifying) {
    const rolledBack = canary.outcome !== 'promoted';
    const percent = canary.stages.at(-1)?.percent ?? 0;
    pendingNotices.push(
      notify(
        rolledBack
          ? notice('canary-rolled-back', 'canary-rolled-back', `canary of ${model} v${candidate.version} rolled back at ${percent}%: all traffic is back on v${canary.championVersion}`, {
              detail: canary.reason,
              championVersion: canary.championVersion,
            })
          : notice('promoted', 'promoted', `${model} v${candidate.version} is the champion (it replaced v${champion.version})`, {
              detail: `approved by ${decided.approver}${decided.reason ? `: ${decided.reason}` : ''}; ${canary.reason}`,
              championVersion: canary.championVersion,
              actor: decided.approver,
            }),
      ),
    );
    await Promise.all(pendingNotices);
  }
  return {
    decision: canary.outcome === 'promoted' ? 'promote' : 'reject',
    reason: canary.outcome === 'promoted' ? `approved by ${decided.approver}; ${canary.reason}` : `canary rolled back: ${canary.reason}`,
    championVersion: canary.championVersion,
    shadow,
    approval,
    canary,
  };
}

/** The message of a failure, through the chain Temporal wraps it in (child workflow → activity → cause). */
function failureText(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The offline decision line and its report link, as the notification's evidence reads them. */
function offlineSummaryOf(offline: RunEvidence['offline']): string {
  if (!offline) return '';
  return offline.report ? `${offline.verdict}\n\n[evaluation report](${offline.report.url})` : offline.verdict;
}
