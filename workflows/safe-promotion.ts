import {
  ApplicationFailure,
  condition,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import type { ModelSpec } from '../lib/spec/model-spec';
import { approverRefusal } from '../lib/policy/approver-check';
import { activityOptions } from './activity-options';
import { canaryRollout } from './canary-rollout';
import { approvePromotionUpdate, rejectPromotionUpdate, searchAttributes, type PromotionDecisionInput, type SafePromotionResult } from './definitions';
import { shadowEvaluation } from './shadow-evaluation';

// Runs inside retrainingPipeline, on the control queue.
const control = proxyActivities<ControlActivities>(activityOptions.bookkeeping);

export interface SafePromotionInput {
  spec: ModelSpec;
  candidate: { id: string; version: number };
  champion: { id: string; version: number };
  holdoutDatasetId: string;
  /** Markdown with the offline comparison, shown while the run waits for approval. */
  offlineSummary: string;
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
  const { approvers } = spec.promotion.approval;
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
  if (!shadow.verdict.passed) {
    return { decision: 'reject', reason: shadow.verdict.reason, championVersion: champion.version, shadow, approval: null, canary: null };
  }

  // Approval: the UI lists these Updates with their descriptions while a worker polls.
  let awaiting = true;
  let decided: { action: 'approve' | 'reject'; approver: string; reason: string } | undefined;
  let events = 0;
  const decide = (action: 'approve' | 'reject') => async (request: PromotionDecisionInput) => {
    const approver = request.approver.trim();
    const refusal = approverRefusal(approver, approvers);
    if (refusal) {
      // Refused requests are recorded too, then the run keeps waiting.
      await control.recordApprovalEvent({ workflowId, eventKey: `refused-${++events}`, model, modelVersionId: candidate.id, action: 'refused', approver, reason: refusal });
      throw ApplicationFailure.create({ type: 'ApproverNotAllowed', message: refusal, nonRetryable: true });
    }
    if (!awaiting || decided) throw ApplicationFailure.create({ type: 'NothingAwaitingApproval', message: 'nothing is awaiting approval', nonRetryable: true });
    decided = { action, approver, reason: request.reason ?? '' };
    return { accepted: true as const, action, approver };
  };
  const validator = (request: PromotionDecisionInput) => {
    if (!awaiting || decided) throw new Error('nothing is awaiting approval');
    if (typeof request?.approver !== 'string' || request.approver.trim() === '') throw new Error(approverRefusal(undefined, approvers) ?? 'name yourself');
  };
  const payloadHelp = `Payload: {"approver": "<your name>", "reason": "..."}; approvers: ${approvers.join(', ')}`;
  setHandler(approvePromotionUpdate, decide('approve'), { validator, description: `Approve ${model} v${candidate.version} for the canary rollout. ${payloadHelp}` });
  setHandler(rejectPromotionUpdate, decide('reject'), { validator, description: `Reject ${model} v${candidate.version}: the champion stays. ${payloadHelp}` });

  upsertSearchAttributes([{ key: searchAttributes.awaitingApproval, value: true }]);
  input.setStage('awaiting-approval', `waiting for approvePromotion or rejectPromotion from ${approvers.join(', ')}`);
  const details = (note: string) =>
    setCurrentDetails(
      [
        `## ${model} v${candidate.version} is waiting for approval`,
        note,
        `Send the **approvePromotion** or **rejectPromotion** Update with \`{"approver": "<your name>", "reason": "..."}\`. Approvers: ${approvers.join(', ')}.`,
        '### Offline evaluation',
        input.offlineSummary,
        '### Shadow',
        shadow.verdict.checks.map((c) => `- ${c.passed ? 'pass' : 'FAIL'}: ${c.message}`).join('\n'),
      ].join('\n\n'),
    );
  details('');
  let approval: SafePromotionResult['approval'] = null;
  for (let escalations = 0; ; escalations++) {
    const answered = await condition(() => decided !== undefined, spec.promotion.approval.timeoutSeconds * 1000);
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
    details(`**Escalated ${escalations + 1}×**: no decision after ${(escalations + 1) * spec.promotion.approval.timeoutSeconds} s.`);
  }
  awaiting = false;
  upsertSearchAttributes([{ key: searchAttributes.awaitingApproval, value: false }]);
  if (decided) {
    approval = decided;
    await control.recordApprovalEvent({ workflowId, eventKey: 'decision', model, modelVersionId: candidate.id, action: decided.action, approver: decided.approver, reason: decided.reason || decided.action });
  }
  if (!decided || decided.action === 'reject') {
    const reason = decided ? `rejected by ${decided.approver}${decided.reason ? `: ${decided.reason}` : ''}` : approval!.reason;
    return { decision: 'reject', reason, championVersion: champion.version, shadow, approval, canary: null };
  }

  input.setStage('canary', `approved by ${decided.approver}; canary stages ${spec.promotion.canary.stages.join(', ')} %`);
  const canary = await executeChild(canaryRollout, {
    workflowId: `${workflowId}/canary`,
    args: [
      {
        model,
        candidateVersionId: candidate.id,
        candidateVersion: candidate.version,
        championVersionId: champion.id,
        championVersion: champion.version,
        approvers,
        spec: spec.promotion.canary,
      },
    ],
  });
  return {
    decision: canary.outcome === 'promoted' ? 'promote' : 'reject',
    reason: canary.outcome === 'promoted' ? `approved by ${decided.approver}; ${canary.reason}` : `canary rolled back: ${canary.reason}`,
    championVersion: canary.championVersion,
    shadow,
    approval,
    canary,
  };
}
