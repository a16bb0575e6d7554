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
