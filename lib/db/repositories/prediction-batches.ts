import type { PredictionBatchRow } from '../schema';
import type { DbExecutor } from '../executor';

/** The predictions of one model version on one dataset snapshot, stored as Parquet in the artifact store. */
export interface PredictionBatch {
  id: string;
  modelVersionId: string;
  datasetId: string;
  outputKey: string;
  outputSha256: string;
  rowCount: number;
  /** The workflow that wrote it; null when it ran outside one (the CLI). */
  workflowId: string | null;
  createdAt: Date;
}

export type NewPredictionBatch = Omit<PredictionBatch, 'id' | 'createdAt'>;

function toPredictionBatch(row: PredictionBatchRow): PredictionBatch {
  return {
    id: row.id,
    modelVersionId: row.model_version_id,
    datasetId: row.dataset_id,
    outputKey: row.output_key,
    outputSha256: row.output_sha256,
    rowCount: Number(row.row_count),
    workflowId: row.workflow_id,
    createdAt: row.created_at,
  };
}

export async function findPredictionBatch(db: DbExecutor, modelVersionId: string, datasetId: string): Promise<PredictionBatch | undefined> {
  const row = await db
    .selectFrom('prediction_batches')
    .selectAll()
    .where('model_version_id', '=', modelVersionId)
    .where('dataset_id', '=', datasetId)
    .executeTakeFirst();
  return row && toPredictionBatch(row);
}

/** Records a batch once per (version, dataset): a concurrent or repeated insert returns the stored row. */
export async function insertPredictionBatch(db: DbExecutor, batch: NewPredictionBatch): Promise<{ batch: PredictionBatch; created: boolean }> {
  const inserted = await db
    .insertInto('prediction_batches')
    .values({
      model_version_id: batch.modelVersionId,
      dataset_id: batch.datasetId,
      output_key: batch.outputKey,
      output_sha256: batch.outputSha256,
      row_count: String(batch.rowCount),
      workflow_id: batch.workflowId,
    })
    .onConflict((oc) => oc.constraint('prediction_batches_version_dataset_unique').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { batch: toPredictionBatch(inserted), created: true };
  const existing = await findPredictionBatch(db, batch.modelVersionId, batch.datasetId);
  if (!existing) throw new Error(`prediction batch of version ${batch.modelVersionId} on dataset ${batch.datasetId} vanished after a conflicting insert`);
  return { batch: existing, created: false };
}

/** A model version's batches, newest first. */
export async function listPredictionBatches(db: DbExecutor, modelVersionId: string): Promise<PredictionBatch[]> {
  const rows = await db.selectFrom('prediction_batches').selectAll().where('model_version_id', '=', modelVersionId).orderBy('id', 'desc').execute();
  return rows.map(toPredictionBatch);
}
