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
