import { recordApprovalEvent, type NewApprovalEvent } from '../lib/db/repositories/approvals';
import type { ActivityDeps } from './activity-deps';

export function createApprovalActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Records a promotion decision, a refused request, a timeout or an escalation: who, when, why. */
    async recordApprovalEvent(event: NewApprovalEvent): Promise<void> {
      await recordApprovalEvent(db, event);
    },
  };
}
