import { ApplicationFailure, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { approverRefusal } from '../lib/policy/approver-check';
import { RollbackChampionInputSchema } from '../lib/spec/champion-rollback-input';
import { activityOptions } from './activity-options';
import { notify } from './promotion-notices';
import { ROLLBACK_CHAMPION, type RollbackChampionInput, type RollbackChampionResult } from './rollback-definitions';
import { validateWorkflowInput } from './workflow-input';

// On the control queue, which this workflow runs on.
const { loadApproverPolicy } = proxyActivities<Pick<ControlActivities, 'loadApproverPolicy'>>(activityOptions.bookkeeping);
const { restoreChampion } = proxyActivities<Pick<ControlActivities, 'restoreChampion'>>(activityOptions.trafficRollback);

/**
 * Rolls a model's champion back after its promotion: the previous champion (or the archived
 * version named by `toVersion`) serves all traffic again, the demoted version is rolled_back
 * with the reason, and who asked is recorded (approvals, action 'rollback'). The one asking must
 * be on the model's approver policy, read when the run starts; otherwise the run fails with the
 * refusal and nothing changes. A request that finds the rollback done already changes nothing
 * and says so in its result. A small workflow started per request (from the Temporal UI's Start
 * Workflow or `retrain rollback`), so it needs nothing running beforehand and each request has
 * its own history.
 */
export async function rollbackChampion(input: RollbackChampionInput): Promise<RollbackChampionResult> {
  validateWorkflowInput(ROLLBACK_CHAMPION, RollbackChampionInputSchema, input);
  const { workflowId, runId } = workflowInfo();
  const approver = input.approver.trim();
  const reason = input.reason.trim();
  const target = input.toVersion === undefined ? 'the previous champion' : `v${input.toVersion}`;
  setCurrentDetails(`Rolling **${input.model}** back to ${target}, asked by ${approver}: ${reason}`);

  const policy = await loadApproverPolicy({ model: input.model });
  const refusal = policy.approvers
    ? approverRefusal(approver, policy.approvers)
    : `nobody may roll back ${input.model}: no approvers are configured (an operator sets them with: retrain approvers set --model ${input.model} <names> --by <name> --reason <why>)`;
  if (refusal) {
    setCurrentDetails(`Rollback of **${input.model}** refused: ${refusal}`);
    throw ApplicationFailure.create({ type: 'ApproverNotAllowed', message: refusal, nonRetryable: true });
  }

  const outcome = await restoreChampion({ model: input.model, ...(input.toVersion === undefined ? {} : { toVersion: input.toVersion }), approver, reason, workflowId, runId });
  setCurrentDetails(outcome.message);
  if (outcome.changed) {
    await notify({
      event: 'champion-rolled-back',
      key: 'champion-rolled-back',
      model: input.model,
      at: new Date().toISOString(),
      title: `${input.model} v${outcome.demotedVersion} rolled back: v${outcome.championVersion} is the champion again`,
      candidateVersion: outcome.demotedVersion,
      championVersion: outcome.championVersion,
      evidence: { offline: null, shadow: null, approvers: policy.approvers ?? [] },
      detail: reason,
      actor: approver,
      links: { report: null },
    });
  }
  return outcome;
}
