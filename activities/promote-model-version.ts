import { applyPromotionDecision } from '../lib/promotion/offline-promotion';
import { rejectCandidate } from '../lib/promotion/candidate-rejection';
import { recordEvaluationVerdict } from '../lib/db/repositories/evaluations';
import type { PromotionDecision } from '../lib/policy/offline-promotion-gate';
import type { ActivityDeps } from './activity-deps';

export function createPromotionActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Records the gate verdict and moves version stages; repeating it is harmless. */
    async applyPromotionDecision(input: {
      versionId: string;
      evaluationId: string;
      decision: PromotionDecision;
      reason: string;
      workflowId: string;
      /** The evaluation's verdict was recorded by an earlier run of this window: keep it. */
      keepRecordedVerdict?: boolean;
    }): Promise<{ championVersion: number | null }> {
      return applyPromotionDecision(db, input);
    },

    /** Records that the offline gates passed, before the live checks (shadow, approval, canary) decide. */
    async recordOfflineVerdict(input: { evaluationId: string; passed: boolean; reason: string }): Promise<void> {
      await recordEvaluationVerdict(db, input.evaluationId, input.passed, input.reason);
    },

    /** Marks a candidate rejected (shadow failed, an engineer rejected it, or approval timed out); `workflowId` is absent in older histories. */
    async rejectCandidate(input: { versionId: string; reason: string; workflowId?: string }): Promise<void> {
      await rejectCandidate(db, input);
    },
  };
}
