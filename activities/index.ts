import type { ActivityDeps } from './activity-deps';
import { createApprovalActivities } from './approval';
import { createBatchPredictActivities } from './batch-predict';
import { createCanaryActivities } from './canary-rollout';
import { createEvaluateActivities } from './evaluate-offline';
import { createIngestActivities } from './ingest-partition';
import { createLabelingControlActivities, createLabelingEvalActivities } from './labeling';
import { withPermanentFailures } from './permanent-failure';
import { createPipelineRunActivities } from './pipeline-run';
import { createPromotionActivities } from './promote-model-version';
import { createShadowActivities } from './shadow-evaluation';
import { createTrainModelActivities } from './train-model';

export type { ActivityDeps } from './activity-deps';

/*
 * The activities of each task queue (workflows/definitions.ts taskQueuesFor), bound to the
 * worker's clients. A worker registers only its queue's activities and a workflow's proxy is
 * typed to the queue it sends to, so an activity scheduled on the wrong queue is a type
 * error rather than a task no worker picks up. Every activity goes through
 * withPermanentFailures: errors that cannot succeed on retry fail at once.
 * The keys are the activity type names recorded in workflow histories: do not rename them.
 */

/** The control queue, next to the workflows: run records, promotion, approval, shadow and canary steps, labeling hand-offs (short Postgres and Label Studio calls). */
export function createControlActivities(deps: ActivityDeps) {
  return withPermanentFailures({
    ...createPipelineRunActivities(deps),
    ...createPromotionActivities(deps),
    ...createApprovalActivities(deps),
    ...createShadowActivities(deps),
    ...createCanaryActivities(deps),
    ...createLabelingControlActivities(deps),
  });
}

/** The data queue: reading source partitions, validating and snapshotting them, registering datasets. */
export function createDataActivities(deps: ActivityDeps) {
  return withPermanentFailures(createIngestActivities(deps));
}

/** The train queue (one slot per process; a GPU machine may poll only this one): training context and training. */
export function createTrainActivities(deps: ActivityDeps) {
  return withPermanentFailures(createTrainModelActivities(deps));
}

/**
 * The eval queue: scoring with ONNX models. Offline evaluation, choosing rows to label by the
 * champion's uncertainty, and batch prediction,
 * which no workflow calls yet; it scores a snapshot with a version like evaluation does,
 * so it belongs where the scoring capacity is.
 */
export function createEvalActivities(deps: ActivityDeps) {
  return withPermanentFailures({
    ...createEvaluateActivities(deps),
    ...createBatchPredictActivities(deps),
    ...createLabelingEvalActivities(deps),
  });
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type DataActivities = ReturnType<typeof createDataActivities>;
export type TrainActivities = ReturnType<typeof createTrainActivities>;
export type EvalActivities = ReturnType<typeof createEvalActivities>;

/** Each queue kind's activities, for the worker of that queue. */
export const activitiesByQueue = {
  control: createControlActivities,
  data: createDataActivities,
  train: createTrainActivities,
  eval: createEvalActivities,
} as const;
