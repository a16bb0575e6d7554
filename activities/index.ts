import type { ActivityDeps } from './activity-deps';
import { observeActivities, type ActivityObserver, type ActivityStage } from './activity-observer';
import { createApprovalActivities } from './approval';
import { createBatchPredictActivities } from './batch-predict';
import { createCanaryActivities } from './canary-rollout';
import { createDriftClaimActivities, createDriftPassActivities, createDriftSourceActivities } from './drift-monitor';
import { createChampionRollbackActivities } from './champion-rollback';
import { createEvaluateActivities } from './evaluate-offline';
import { createIngestActivities } from './ingest-partition';
import { createNotificationActivities } from './notification';
import { createLabelingControlActivities, createLabelingEvalActivities } from './labeling';
import { withPermanentFailures } from './permanent-failure';
import { createPipelineRunActivities } from './pipeline-run';
import { createPromotionActivities } from './promote-model-version';
import { createShadowActivities } from './shadow-evaluation';
import { createTrainModelActivities } from './train-model';

export type { ActivityDeps } from './activity-deps';
export type { ActivityObservation, ActivityObserver, ActivityStage } from './activity-observer';

/*
 * The activities of each task queue (workflows/definitions.ts taskQueuesFor), bound to the
 * worker's clients. A worker registers only its queue's activities and a workflow's proxy is
 * typed to the queue it sends to, so an activity scheduled on the wrong queue is a type
 * error rather than a task no worker picks up. Every activity goes through
 * withPermanentFailures: errors that cannot succeed on retry fail at once; and, when the worker
 * observes them (`observe`, its metrics), each attempt is reported with its stage, duration and
 * how it ended. The keys are the activity type names recorded in workflow histories: do not
 * rename them.
 */

/** One stage's activities with permanent failures mapped, and observed when an observer is given. */
function inStage<T extends Parameters<typeof withPermanentFailures>[0]>(stage: ActivityStage, activities: T, observe: ActivityObserver | undefined): T {
  const mapped = withPermanentFailures(activities);
  return observe ? observeActivities(stage, mapped, observe) : mapped;
}

/** The control queue, next to the workflows: run records, promotion, approval, shadow and canary steps, rollbacks after promotion, labeling hand-offs (short Postgres and Label Studio calls), notifications. */
export function createControlActivities(deps: ActivityDeps, observe?: ActivityObserver) {
  return {
    ...inStage('run', createPipelineRunActivities(deps), observe),
    ...inStage('promote', createPromotionActivities(deps), observe),
    ...inStage('approval', createApprovalActivities(deps), observe),
    ...inStage('shadow', createShadowActivities(deps), observe),
    ...inStage('canary', createCanaryActivities(deps), observe),
    ...inStage('drift', createDriftClaimActivities(deps), observe),
    ...inStage('rollback', createChampionRollbackActivities(deps), observe),
    ...inStage('notify', createNotificationActivities(deps), observe),
    ...inStage('labeling', createLabelingControlActivities(deps), observe),
  };
}

/** The data queue: reading source partitions, validating and snapshotting them, registering datasets. */
export function createDataActivities(deps: ActivityDeps, observe?: ActivityObserver) {
  return { ...inStage('ingest', createIngestActivities(deps), observe), ...inStage('drift', createDriftSourceActivities(deps), observe) };
}

/** The train queue (one slot per process; a GPU machine may poll only this one): training context and training. */
export function createTrainActivities(deps: ActivityDeps, observe?: ActivityObserver) {
  return inStage('train', createTrainModelActivities(deps), observe);
}

/**
 * The eval queue: scoring with ONNX models. Offline evaluation, the drift monitor's pass (it scores the champion's held-out day to calibrate),
 * choosing rows to label by the champion's uncertainty, and batch prediction,
 * which no workflow calls yet; it scores a snapshot with a version like evaluation does,
 * so it belongs where the scoring capacity is.
 */
export function createEvalActivities(deps: ActivityDeps, observe?: ActivityObserver) {
  return {
    ...inStage('evaluate', createEvaluateActivities(deps), observe),
    ...inStage('batch-predict', createBatchPredictActivities(deps), observe),
    ...inStage('drift', createDriftPassActivities(deps), observe),
    ...inStage('labeling', createLabelingEvalActivities(deps), observe),
  };
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
