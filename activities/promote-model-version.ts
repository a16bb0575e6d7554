import { applyPromotionDecision } from '../lib/db/promotion';
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
    }): Promise<{ championVersion: number | null }> {
      return applyPromotionDecision(db, input);
    },
  };
}
