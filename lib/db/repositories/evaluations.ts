import type { EvaluationRow } from '../schema';
import type { DbExecutor } from '../executor';
import { EvaluationNotFoundError } from '../not-found-errors';

export interface Evaluation<M = unknown> {
  id: string;
  modelVersionId: string;
  kind: 'offline' | 'shadow' | 'canary';
  datasetId: string;
  championVersionId: string | null;
  metrics: M;
  /** The champion's headline metrics on the same data, when there was a champion. */
  championMetrics: unknown;
  /** The gate verdict; null until the pipeline decided. */
  passed: boolean | null;
  reason: string | null;
  /** The HTML report in the artifact store. */
  report: { key: string; sha256: string } | null;
  workflowId: string;
}

export type NewEvaluation<M> = Omit<Evaluation<M>, 'id' | 'passed' | 'reason'>;

function toEvaluation<M>(row: EvaluationRow): Evaluation<M> {
  return {
    id: row.id,
    modelVersionId: row.model_version_id,
    kind: row.kind,
    datasetId: row.dataset_id,
    championVersionId: row.champion_version_id,
    metrics: row.metrics as M,
    championMetrics: row.champion_metrics,
    passed: row.passed,
    reason: row.reason,
    report: row.report_key && row.report_sha256 ? { key: row.report_key, sha256: row.report_sha256 } : null,
    workflowId: row.workflow_id,
  };
}

export async function getEvaluation<M>(db: DbExecutor, id: string): Promise<Evaluation<M>> {
  const row = await db.selectFrom('evaluations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new EvaluationNotFoundError(id);
  return toEvaluation<M>(row);
}

/** The evaluation of a version on a dataset against a given champion (null: evaluated with no champion). */
export async function findEvaluation<M>(
  db: DbExecutor,
  key: { modelVersionId: string; kind: Evaluation['kind']; datasetId: string; championVersionId: string | null },
): Promise<Evaluation<M> | undefined> {
  const row = await db
    .selectFrom('evaluations')
    .selectAll()
    .where('model_version_id', '=', key.modelVersionId)
    .where('kind', '=', key.kind)
    .where('dataset_id', '=', key.datasetId)
    .where((eb) => (key.championVersionId === null ? eb('champion_version_id', 'is', null) : eb('champion_version_id', '=', key.championVersionId)))
    .executeTakeFirst();
  return row && toEvaluation<M>(row);
}

/** Stores the evaluation once per (version, kind, dataset, champion); a repeat returns the first result. */
export async function insertEvaluation<M>(db: DbExecutor, evaluation: NewEvaluation<M>): Promise<Evaluation<M>> {
  const inserted = await db
    .insertInto('evaluations')
    .values({
      model_version_id: evaluation.modelVersionId,
      kind: evaluation.kind,
      dataset_id: evaluation.datasetId,
      champion_version_id: evaluation.championVersionId,
      metrics: JSON.stringify(evaluation.metrics),
      champion_metrics: evaluation.championMetrics === null ? null : JSON.stringify(evaluation.championMetrics),
      report_key: evaluation.report?.key ?? null,
      report_sha256: evaluation.report?.sha256 ?? null,
      workflow_id: evaluation.workflowId,
    })
    .onConflict((oc) => oc.constraint('evaluations_comparison_unique').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return toEvaluation<M>(inserted);
  const existing = await findEvaluation<M>(db, evaluation);
  if (!existing) throw new Error(`evaluation of version ${evaluation.modelVersionId} vanished after a conflicting insert`);
  return existing;
}

/** Records the gate verdict on an evaluation (idempotent: the same verdict may be written twice). */
export async function recordEvaluationVerdict(db: DbExecutor, id: string, passed: boolean, reason: string): Promise<void> {
  await db.updateTable('evaluations').set({ passed, reason }).where('id', '=', id).execute();
}

/** Records a verdict only on an evaluation that has none yet: a repeated run must not rewrite the first run's verdict. */
export async function recordEvaluationVerdictIfUnset(db: DbExecutor, id: string, passed: boolean, reason: string): Promise<void> {
  await db.updateTable('evaluations').set({ passed, reason }).where('id', '=', id).where('passed', 'is', null).execute();
}
