import { recordApprovalEvent, type NewApprovalEvent } from '../lib/db/repositories/approvals';
import { getApproverPolicy } from '../lib/db/repositories/approver-policies';
import type { ActivityDeps } from './activity-deps';

/** How often a run waiting for approval re-reads its model's approver policy, unless the worker says otherwise. */
export const APPROVER_POLICY_REFRESH_SECONDS = 600;

/** A model's approver policy as a run reads it (the result is in the run's history, so a replay sees the same list). */
export interface ApproverPolicySnapshot {
  /** The configured approvers; null when the model has no policy (then nobody may approve). */
  approvers: string[] | null;
  revision: number | null;
  /** When the waiting run reads the policy again (the worker's setting). */
  refreshSeconds: number;
}

export function createApprovalActivities({ db, approverPolicyRefreshSeconds }: Pick<ActivityDeps, 'db' | 'approverPolicyRefreshSeconds'>) {
  return {
    /** Records a promotion decision, a refused request, a timeout or an escalation: who, when, why. */
    async recordApprovalEvent(event: NewApprovalEvent): Promise<void> {
      await recordApprovalEvent(db, event);
    },

    /** Who may approve the model's promotions, as configured (`retrain approvers set`); a run's spec can only narrow it. */
    async loadApproverPolicy(input: { model: string }): Promise<ApproverPolicySnapshot> {
      const policy = await getApproverPolicy(db, input.model);
      return { approvers: policy?.approvers ?? null, revision: policy?.revision ?? null, refreshSeconds: approverPolicyRefreshSeconds ?? APPROVER_POLICY_REFRESH_SECONDS };
    },
  };
}
