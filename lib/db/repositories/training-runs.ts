import type { TrainingRunRow } from '../schema';
import type { DbExecutor } from '../executor';

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
  /** The last day of the run's data window. */
  windowDay: string | null;
  /** The version a fine-tuning run started from. */
  baseVersionId: string | null;
  /** The facts the training policy decided on. */
  context: unknown;
  /** stdout/stderr of an external trainer, in the artifact store. */
  logsKey: string | null;
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
    windowDay: row.window_day,
    baseVersionId: row.base_version_id,
    context: row.context,
    logsKey: row.logs_key,
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
      window_day: run.windowDay,
      base_version_id: run.baseVersionId,
      context: run.context === null || run.context === undefined ? null : JSON.stringify(run.context),
      logs_key: run.logsKey,
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

/** A model's training runs, newest first. */
export async function listTrainingRuns(db: DbExecutor, model: string, limit = 100): Promise<TrainingRun[]> {
  const rows = await db.selectFrom('training_runs').selectAll().where('model', '=', model).orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toTrainingRun);
}

export async function getTrainingRun(db: DbExecutor, id: string): Promise<TrainingRun> {
  const row = await db.selectFrom('training_runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new Error(`training run ${id} does not exist`);
  return toTrainingRun(row);
}
