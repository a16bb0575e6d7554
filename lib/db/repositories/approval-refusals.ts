import { sql } from 'kysely';
import { RECORDED_REFUSALS_PER_MINUTE } from '../../policy/approver-check';
import type { DbExecutor } from '../executor';
import { recordApprovalEvent } from './approvals';

export interface RefusedApproval {
  workflowId: string;
  /** Names the refused request within the run (e.g. `refused-<update id>`): the same request recorded twice is one row. */
  eventKey: string;
  model: string;
  modelVersionId: string;
  /** Already bounded by the caller (lib/policy/approver-check refusalRecord). */
  approver: string | null;
  reason: string;
}

/** Refusals of one run in one minute. */
export interface RefusalCount {
  windowStart: Date;
  refusals: number;
  /** How many of them have an approvals row (at most RECORDED_REFUSALS_PER_MINUTE). */
  recorded: number;
}

/**
 * Counts a refused approval request and, if fewer than RECORDED_REFUSALS_PER_MINUTE of the
 * run's refusals were recorded in this minute (the database's clock), records it in
 * `approvals` (action `refused`). In one transaction, so concurrent workers keep the bound.
 */
export async function recordRefusedApproval(db: DbExecutor, refusal: RefusedApproval): Promise<{ recorded: boolean; refusalsThisMinute: number }> {
  const run = async (trx: DbExecutor) => {
    const { refusals } = await trx
      .insertInto('approval_refusal_counts')
      .values({ workflow_id: refusal.workflowId, window_start: sql<Date>`date_trunc('minute', now())`, refusals: 1 })
      .onConflict((oc) => oc.columns(['workflow_id', 'window_start']).doUpdateSet({ refusals: sql<number>`approval_refusal_counts.refusals + 1` }))
      .returning('refusals')
      .executeTakeFirstOrThrow();
    const recorded = refusals <= RECORDED_REFUSALS_PER_MINUTE;
    if (recorded) {
      await recordApprovalEvent(trx, { ...refusal, action: 'refused' });
    }
    return { recorded, refusalsThisMinute: refusals };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** A run's refusals per minute, oldest first. */
export async function listRefusalCounts(db: DbExecutor, workflowId: string): Promise<RefusalCount[]> {
  const rows = await db.selectFrom('approval_refusal_counts').selectAll().where('workflow_id', '=', workflowId).orderBy('window_start').execute();
  return rows.map((row) => ({ windowStart: row.window_start, refusals: row.refusals, recorded: Math.min(row.refusals, RECORDED_REFUSALS_PER_MINUTE) }));
}
