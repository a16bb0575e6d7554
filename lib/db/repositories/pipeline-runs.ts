import { sql } from 'kysely';
import type { PipelineRunRow, PipelineRunStatus } from '../schema';
import type { DbExecutor } from '../executor';

export interface PipelineRun {
  workflowId: string;
  runId: string;
  model: string;
  windowDay: string;
  status: PipelineRunStatus;
  result: unknown;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

function toPipelineRun(row: PipelineRunRow): PipelineRun {
  return {
    workflowId: row.workflow_id,
    runId: row.run_id,
    model: row.model,
    windowDay: row.window_day,
    status: row.status,
    result: row.result,
    error: row.error,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** Marks a run as started; a retried call for the same run changes nothing. */
export async function startPipelineRun(db: DbExecutor, run: Pick<PipelineRun, 'workflowId' | 'runId' | 'model' | 'windowDay'>): Promise<void> {
  await db
    .insertInto('pipeline_runs')
    .values({ workflow_id: run.workflowId, run_id: run.runId, model: run.model, window_day: run.windowDay, status: 'running' })
    .onConflict((oc) => oc.constraint('pipeline_runs_pk').doNothing())
    .execute();
}

export async function finishPipelineRun(
  db: DbExecutor,
  key: { workflowId: string; runId: string },
  outcome: { status: 'succeeded'; result: unknown } | { status: 'failed'; error: string },
): Promise<void> {
  await db
    .updateTable('pipeline_runs')
    .set({
      status: outcome.status,
      result: outcome.status === 'succeeded' ? JSON.stringify(outcome.result) : null,
      error: outcome.status === 'failed' ? outcome.error : null,
      finished_at: new Date(),
    })
    .where('workflow_id', '=', key.workflowId)
    .where('run_id', '=', key.runId)
    .execute();
}

export async function listPipelineRuns(db: DbExecutor, model: string): Promise<PipelineRun[]> {
  const rows = await db.selectFrom('pipeline_runs').selectAll().where('model', '=', model).orderBy('started_at').execute();
  return rows.map(toPipelineRun);
}

/** What a finished run decided about the version it trained, as its recorded result says. */
export interface RecordedRunDecision {
  workflowId: string;
  runId: string;
  decision: 'promote' | 'reject' | 'unchanged';
  reason: string;
  /** The offline evaluation that run decided on. */
  evaluationId: string | null;
  finishedAt: Date;
}

/**
 * The first succeeded run of this model and window that decided about `versionId`, or undefined.
 * A later run of the same window that trains the same version (same inputs, same fingerprint)
 * repeats that decision instead of deciding again against whatever serves by then.
 */
export async function findRecordedDecision(db: DbExecutor, model: string, windowDay: string, versionId: string): Promise<RecordedRunDecision | undefined> {
  const row = await db
    .selectFrom('pipeline_runs')
    .select(['workflow_id', 'run_id', 'finished_at', sql<string>`result->>'decision'`.as('decision'), sql<string>`result->>'reason'`.as('reason'), sql<string | null>`result->'evaluation'->>'id'`.as('evaluation_id')])
    .where('model', '=', model)
    .where('window_day', '=', windowDay)
    .where('status', '=', 'succeeded')
    .where(sql<string>`result->'version'->>'id'`, '=', versionId)
    .orderBy('finished_at')
    .limit(1)
    .executeTakeFirst();
  if (!row || !row.finished_at) return undefined;
  const decision = row.decision === 'promote' || row.decision === 'reject' || row.decision === 'unchanged' ? row.decision : undefined;
  if (!decision) return undefined;
  return { workflowId: row.workflow_id, runId: row.run_id, decision, reason: row.reason ?? '', evaluationId: row.evaluation_id, finishedAt: row.finished_at };
}
