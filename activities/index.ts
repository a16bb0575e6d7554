import type { ActivityDeps } from './activity-deps';
import { createApprovalActivities } from './approval';
import { createBatchPredictActivities } from './batch-predict';
import { createCanaryActivities } from './canary-rollout';
import { createEvaluateActivities } from './evaluate-offline';
import { createIngestActivities } from './ingest-partition';
import { createPipelineRunActivities } from './pipeline-run';
import { createPromotionActivities } from './promote-model-version';
import { createShadowActivities } from './shadow-evaluation';
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
    ...createShadowActivities(deps),
    ...createCanaryActivities(deps),
    ...createApprovalActivities(deps),
  };
}
