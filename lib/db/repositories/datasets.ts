import type { DatasetRow } from '../schema';
import type { DbExecutor } from '../executor';
import { DatasetNotFoundError } from '../not-found-errors';

/** An immutable snapshot of one source partition as the pipeline sees it. */
export interface DatasetSnapshot {
  id: string;
  model: string;
  partitionDay: string;
  sourceHash: string;
  snapshotKey: string;
  snapshotSha256: string;
  sizeBytes: number;
  rowCount: number;
  workflowId: string;
}

export type NewDatasetSnapshot = Omit<DatasetSnapshot, 'id'> & { columnStats: unknown };

function toDataset(row: DatasetRow): DatasetSnapshot {
  return {
    id: row.id,
    model: row.model,
    partitionDay: row.partition_day,
    sourceHash: row.source_hash,
    snapshotKey: row.snapshot_key,
    snapshotSha256: row.snapshot_sha256,
    sizeBytes: Number(row.size_bytes),
    rowCount: Number(row.row_count),
    workflowId: row.workflow_id,
  };
}

export async function findDataset(db: DbExecutor, model: string, partitionDay: string, sourceHash: string): Promise<DatasetSnapshot | undefined> {
  const row = await db
    .selectFrom('datasets')
    .selectAll()
    .where('model', '=', model)
    .where('partition_day', '=', partitionDay)
    .where('source_hash', '=', sourceHash)
    .executeTakeFirst();
  return row && toDataset(row);
}

export async function getDataset(db: DbExecutor, id: string): Promise<DatasetSnapshot> {
  const row = await db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new DatasetNotFoundError(id);
  return toDataset(row);
}

/** Records a snapshot once: a concurrent or repeated insert of the same partition content returns the existing row. */
export async function insertDataset(db: DbExecutor, dataset: NewDatasetSnapshot): Promise<{ dataset: DatasetSnapshot; created: boolean }> {
  const inserted = await db
    .insertInto('datasets')
    .values({
      model: dataset.model,
      partition_day: dataset.partitionDay,
      source_hash: dataset.sourceHash,
      snapshot_key: dataset.snapshotKey,
      snapshot_sha256: dataset.snapshotSha256,
      size_bytes: String(dataset.sizeBytes),
      row_count: String(dataset.rowCount),
      column_stats: JSON.stringify(dataset.columnStats),
      workflow_id: dataset.workflowId,
    })
    .onConflict((oc) => oc.constraint('datasets_model_day_source_unique').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { dataset: toDataset(inserted), created: true };
  const existing = await findDataset(db, dataset.model, dataset.partitionDay, dataset.sourceHash);
  if (!existing) throw new Error(`dataset for ${dataset.model} ${dataset.partitionDay} vanished after a conflicting insert`);
  return { dataset: existing, created: false };
}

export async function countDatasets(db: DbExecutor, model: string, partitionDay?: string): Promise<number> {
  let query = db.selectFrom('datasets').select((eb) => eb.fn.countAll<string>().as('n')).where('model', '=', model);
  if (partitionDay) query = query.where('partition_day', '=', partitionDay);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The newest snapshot of a model's partition for a day (the latest source content). */
export async function findLatestDatasetForDay(db: DbExecutor, model: string, partitionDay: string): Promise<DatasetSnapshot | undefined> {
  const row = await db
    .selectFrom('datasets')
    .selectAll()
    .where('model', '=', model)
    .where('partition_day', '=', partitionDay)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row && toDataset(row);
}
