import type { TrainingRunRow } from '../schema';
import type { DbExecutor } from './executor';

export interface TrainingRun {
  id: string;
  model: string;
  fingerprint: string;
  datasetIds: string[];
  trainer: unknown;
  mode: string;
  modeReason: string;
  metrics: unknown;
  durationMs: number;
  workflowId: string;
}

export type NewTrainingRun = Omit<TrainingRun, 'id'>;

function toTrainingRun(row: TrainingRunRow): TrainingRun {
  return {
    id: row.id,
    model: row.model,
    fingerprint: row.fingerprint,
    datasetIds: row.dataset_ids.map(String),
    trainer: row.trainer,
    mode: row.mode,
    modeReason: row.mode_reason,
    metrics: row.metrics,
    durationMs: row.duration_ms,
    workflowId: row.workflow_id,
  };
}

export async function findTrainingRunByFingerprint(db: DbExecutor, model: string, fingerprint: string): Promise<TrainingRun | undefined> {
  const row = await db.selectFrom('training_runs').selectAll().where('model', '=', model).where('fingerprint', '=', fingerprint).executeTakeFirst();
  return row && toTrainingRun(row);
}

/** Inserts the run unless one with the same fingerprint exists; returns the stored run either way. */
export async function insertTrainingRun(db: DbExecutor, run: NewTrainingRun): Promise<{ run: TrainingRun; created: boolean }> {
  const inserted = await db
    .insertInto('training_runs')
    .values({
      model: run.model,
      fingerprint: run.fingerprint,
      dataset_ids: run.datasetIds,
      trainer: JSON.stringify(run.trainer),
      mode: run.mode,
      mode_reason: run.modeReason,
      metrics: JSON.stringify(run.metrics),
      duration_ms: Math.round(run.durationMs),
      workflow_id: run.workflowId,
    })
    .onConflict((oc) => oc.constraint('training_runs_model_fingerprint_unique').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { run: toTrainingRun(inserted), created: true };
  const existing = await findTrainingRunByFingerprint(db, run.model, run.fingerprint);
  if (!existing) throw new Error(`training run ${run.fingerprint} vanished after a conflicting insert`);
  return { run: existing, created: false };
}
