import type { DbExecutor } from '../executor';

/**
 * The datasets a model version learned from: its training run's datasets plus, for a fine-tuned
 * version, those of the version it started from, down the chain (the same lineage as
 * version-lineage.ts, by dataset instead of by day). The drift monitor's reference. Sorted by id.
 */
export async function listVersionTrainingDatasetIds(db: DbExecutor, versionId: string): Promise<string[]> {
  const ids = new Set<string>();
  const seen = new Set<string>();
  let current: string | null = versionId;
  while (current !== null && !seen.has(current)) {
    seen.add(current);
    const row: { dataset_ids: string[]; base_version_id: string | null } | undefined = await db
      .selectFrom('model_versions as v')
      .innerJoin('training_runs as r', 'r.id', 'v.training_run_id')
      .select(['r.dataset_ids', 'r.base_version_id'])
      .where('v.id', '=', current)
      .executeTakeFirst();
    if (!row) break;
    for (const id of row.dataset_ids) ids.add(String(id));
    current = row.base_version_id === null ? null : String(row.base_version_id);
  }
  return [...ids].sort((a, b) => Number(a) - Number(b));
}

/** The dataset a version was first judged on offline (its held-out day as a candidate): labelled rows it did not learn from. Null when it has none. */
export async function findOfflineHoldoutDatasetId(db: DbExecutor, versionId: string): Promise<string | null> {
  const row = await db.selectFrom('evaluations').select('dataset_id').where('model_version_id', '=', versionId).where('kind', '=', 'offline').orderBy('id').executeTakeFirst();
  return row ? String(row.dataset_id) : null;
}

/** A model's datasets registered in [start, end) (ingested then), oldest first. */
export async function listDatasetIdsRegisteredBetween(db: DbExecutor, model: string, start: Date, end: Date): Promise<string[]> {
  const rows = await db.selectFrom('datasets').select('id').where('model', '=', model).where('created_at', '>=', start).where('created_at', '<', end).orderBy('id').execute();
  return rows.map((r) => String(r.id));
}

/** The column statistics recorded with each dataset (datasets.column_stats): its columns' names and source DuckDB types. */
export async function datasetColumnTypes(db: DbExecutor, ids: readonly string[]): Promise<Array<{ id: string; columns: Array<{ name: string; duckdbType: string }> }>> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('datasets').select(['id', 'column_stats']).where('id', 'in', ids).orderBy('id').execute();
  return rows.map((r) => {
    const stats = r.column_stats as { columns?: Array<{ name: string; duckdbType: string }> } | null;
    return { id: String(r.id), columns: (stats?.columns ?? []).map((c) => ({ name: c.name, duckdbType: c.duckdbType })) };
  });
}
