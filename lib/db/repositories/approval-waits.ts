import { sql } from 'kysely';
import type { DbExecutor } from '../executor';

/**
 * The Prometheus gauge these counts are exported as, one series per model. Defined here, next
 * to the count, so every process that exports it (the gateway's /metrics does) names it alike.
 */
export const RUNS_AWAITING_APPROVAL_GAUGE = {
  name: 'retrain_runs_awaiting_approval',
  help: 'Pipeline runs waiting for a person to approve or reject a promotion, per model (from Postgres: the approvals table and pipeline_runs)',
  labelNames: ['model'],
} as const;

/** How many runs of a model wait for an approval decision now. */
export interface ApprovalWaitCount {
  model: string;
  runs: number;
}

/**
 * Runs waiting for a person, per model (every model, zeros included, so an alert on the count
 * sees a model's waits end): pipeline runs still running whose latest approval event since the
 * run started is the wait itself ('awaiting', written when the wait starts), an escalation or a
 * refused request; a decision or a timeout ends the wait. Read from Postgres, so the gauge can be
 * exported by any process with a database connection (the gateway does). Runs that started
 * waiting before the 'awaiting' event existed (migration 2026-12-01-0401) are not counted; a run
 * terminated in Temporal while waiting stays counted until its pipeline_runs row says it ended.
 */
export async function countRunsAwaitingApproval(db: DbExecutor): Promise<ApprovalWaitCount[]> {
  const { rows } = await sql<{ model: string; runs: string }>`
    select m.name as model, count(r.workflow_id) as runs
    from models m
    left join pipeline_runs r on r.model = m.name and r.status = 'running' and (
      select a.action from approvals a
      where a.workflow_id = r.workflow_id and a.created_at >= r.started_at
      order by a.id desc limit 1
    ) in ('awaiting', 'escalated', 'refused')
    group by m.name
    order by m.name
  `.execute(db);
  return rows.map((row) => ({ model: row.model, runs: Number(row.runs) }));
}
