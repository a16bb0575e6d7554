import type { ActivityDeps } from './activity-deps';
import { createBatchPredictActivities } from './batch-predict';
import { createEvaluateActivities } from './evaluate-offline';
import { createIngestActivities } from './ingest-partition';
import { createPipelineRunActivities } from './pipeline-run';
import { createPromotionActivities } from './promote-model-version';
import { createTrainActivities } from './train-model';

export type { ActivityDeps } from './activity-deps';

/** Every activity of the retraining pipeline, bound to the worker's clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createPipelineRunActivities(deps),
    ...createIngestActivities(deps),
    ...createTrainActivities(deps),
    ...createEvaluateActivities(deps),
    ...createPromotionActivities(deps),
    ...createBatchPredictActivities(deps),
  };
}
