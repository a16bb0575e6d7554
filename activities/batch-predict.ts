import { heartbeat } from '@temporalio/activity';
import { scoreDatasetSnapshot, type BatchInferenceResult } from '../lib/scoring/batch-inference';
import type { ActivityDeps } from './activity-deps';

export function createBatchPredictActivities(deps: ActivityDeps) {
  return {
    /** Scores a dataset snapshot with a model version and stores the predictions as Parquet; once per pair. */
    async batchPredict(input: { modelVersionId: string; datasetId: string; workflowId: string }): Promise<BatchInferenceResult> {
      return scoreDatasetSnapshot(deps, input, (phase) => heartbeat({ phase }));
    },
  };
}
