import type { InjectedSinks } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import { APPROVER_NAME_MAX_LENGTH, RECORDED_REFUSAL_REASON_MAX_LENGTH, truncateText } from '../lib/policy/approver-check';
import { recordRefusedApproval } from '../lib/db/repositories/approval-refusals';
import type { RetrainSinks } from '../workflows/definitions';

/**
 * The worker side of the `approvals.refused` sink: records a decision request an Update
 * validator refused (lib/db/repositories/approval-refusals: at most RECORDED_REFUSALS_PER_MINUTE
 * rows per run and minute, every refusal counted). A validator may not run an activity and
 * nothing it does is written to the history, which is the point: a flood of refused requests
 * cannot grow the run's history. Not called during replay (the validators of a replayed history
 * never ran again anyway); a sink is fire-and-forget, so a refusal that cannot be written
 * (Postgres away) is logged by the worker and lost, never retried into the history.
 * The worker finishes the activation's sink calls before it answers the Update, so the row
 * exists by the time the caller sees the refusal.
 */
export function approvalRefusalSinks(deps: Pick<ActivityDeps, 'db'>): InjectedSinks<RetrainSinks> {
  return {
    approvals: {
      refused: {
        fn: async (info, request) => {
          await recordRefusedApproval(deps.db, {
            workflowId: info.workflowId,
            eventKey: `refused-${truncateText(request.updateId, 100)}`,
            model: request.model,
            modelVersionId: request.modelVersionId,
            // Bounded again: the workflow already did, but the table's bound should not depend on workflow code.
            approver: request.approver === null ? null : truncateText(request.approver, APPROVER_NAME_MAX_LENGTH),
            reason: truncateText(request.reason, RECORDED_REFUSAL_REASON_MAX_LENGTH),
          });
        },
        callDuringReplay: false,
      },
    },
  };
}
