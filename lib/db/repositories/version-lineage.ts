import type { ModelVersionStage } from '../schema';
import type { DbExecutor } from '../executor';

/** A model version with every partition day it learned from, its own window and those inherited through fine-tuning. */
export interface VersionTrainingDays {
  versionId: string;
  version: number;
  stage: ModelVersionStage;
  /** Sorted YYYY-MM-DD days. */
  trainedOnDays: string[];
}

/**
 * Every version of a model with the days it was trained on: the days of its training run's
 * datasets plus, for a fine-tuned version, all the days of the version it started from (and so
 * on down the chain). A comparison on a day in this set scores a model on its own training data.
 */
export async function listVersionTrainingDays(db: DbExecutor, model: string): Promise<VersionTrainingDays[]> {
  const versions = await db
    .selectFrom('model_versions as v')
    .innerJoin('training_runs as r', 'r.id', 'v.training_run_id')
    .select(['v.id', 'v.version', 'v.stage', 'r.dataset_ids', 'r.base_version_id'])
    .where('v.model', '=', model)
    .orderBy('v.version')
    .execute();
  const datasetIds = [...new Set(versions.flatMap((v) => v.dataset_ids))];
  const days = new Map<string, string>();
  if (datasetIds.length > 0) {
    const rows = await db.selectFrom('datasets').select(['id', 'partition_day']).where('id', 'in', datasetIds).execute();
    for (const row of rows) days.set(String(row.id), row.partition_day);
  }
  const byId = new Map(versions.map((v) => [String(v.id), v]));
  const memo = new Map<string, Set<string>>();
  const lineageDays = (id: string, seen: Set<string> = new Set()): Set<string> => {
    const cached = memo.get(id);
    if (cached) return cached;
    const version = byId.get(id);
    const result = new Set<string>();
    if (version && !seen.has(id)) {
      seen.add(id);
      for (const datasetId of version.dataset_ids) {
        const day = days.get(String(datasetId));
        if (day) result.add(day);
      }
      if (version.base_version_id) for (const day of lineageDays(String(version.base_version_id), seen)) result.add(day);
    }
    memo.set(id, result);
    return result;
  };
  return versions.map((v) => ({ versionId: String(v.id), version: v.version, stage: v.stage, trainedOnDays: [...lineageDays(String(v.id))].sort() }));
}
