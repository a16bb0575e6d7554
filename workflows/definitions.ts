import { defineQuery, defineSignal, defineUpdate, type Sinks } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { CanarySpec, ModelSpec, ShadowSpec } from '../lib/spec/model-spec';
import type { DatasetSummary } from '../lib/ingestion/partition-ingestion';
import type { MetricDeltas } from '../lib/stats/evaluation-summary';
import type { BinaryClassifierMetrics } from '../lib/stats/metrics';
import type { OfflineGateCheck } from '../lib/policy/offline-gates';
import type { HoldoutComparison } from '../lib/policy/holdout-comparison';
import type { PromotionDecision } from '../lib/policy/offline-promotion-gate';
import type { TrainingMode } from '../lib/policy/training-mode';
import type { HumanLabelsUse } from '../lib/training/candidate-training';
import type { CanaryObservation } from '../lib/policy/canary-stage-analysis';
import type { ShadowObservation, ShadowVerdict } from '../lib/policy/shadow-gates';
import type { CanaryProgress } from '../lib/evidence/canary-evidence';
import type { BatchAgreement } from '../lib/policy/label-resolution';

/** Importable by clients (CLI, tests) without pulling in workflow code. */

export const RETRAINING_PIPELINE = 'retrainingPipeline';

/** Workflow id of the pipeline run for one model and one data window: re-running a day reuses the id. */
export function retrainingPipelineId(model: string, day: string): string {
  return `retrain/${model}/${day}`;
}

export interface RetrainingPipelineInput {
  /** The model spec as parsed at start; kept in the history so the run is reproducible. */
  spec: ModelSpec;
  /** The newest partition (YYYY-MM-DD): held out for evaluation; the training window precedes it. */
  day: string;
  /**
   * Set (`retrain run --breaking-change`) to start a run whose spec changes the serving
   * champion's contract in a way its clients must change their requests for (a feature added,
   * removed or retyped); without it such a run is refused at its start (BreakingSpecChange,
   * naming the features). A run input, not a spec field: it is a decision about one run, and a
   * spec file that said so once would keep saying it for every later run.
   */
  breakingChange?: boolean;
}

export type PipelineStage = 'ingest' | 'labeling' | 'train' | 'evaluate' | 'shadow' | 'awaiting-approval' | 'canary' | 'promote' | 'done' | 'failed';

export type { DatasetSummary };

export interface RetrainingPipelineResult {
  model: string;
  day: string;
  workflowId: string;
  datasets: { training: DatasetSummary[]; holdout: DatasetSummary };
  version: { id: string; version: number; artifactKey: string; artifactSha256: string; reused: boolean };
  training: {
    mode: TrainingMode;
    reason: string;
    /** The champion version a fine-tuning run started from. */
    baseVersion: number | null;
    /** The epoch the final attempt resumed from after a crashed one (0: none). */
    resumedFromEpoch: number;
    /** Rows trained on (0 when an existing version was reused). */
    rows: number;
    finalLoss: number | null;
    /** stdout/stderr of an external trainer in the artifact store. */
    logsKey: string | null;
    worstDrift: { feature: string; score: number } | null;
    /** How labels from people entered training (models with `labels`; absent otherwise). */
    humanLabels?: HumanLabelsUse;
  };
  metrics: { candidate: BinaryClassifierMetrics; champion: BinaryClassifierMetrics | null; championVersion: number | null };
  evaluation: {
    id: string;
    /** candidate - champion per metric with paired bootstrap intervals; null without a champion. */
    deltas: MetricDeltas | null;
    gates: OfflineGateCheck[];
    /**
     * The HTML report: its key in the store and its link, the gateway's stable URL
     * (`<reports base URL>/reports/<model>/<sha256>.html`) when one is configured, else a presigned
     * S3 link valid for 7 days. `retrain report` prints a current link for either.
     */
    report: { key: string; url: string } | null;
    /** Which model the candidate was compared with and why (the champion unless it learned from the held-out day); null in older results. */
    comparison?: HoldoutComparison | null;
    /** Set when an earlier run of this window had decided about this same version: its decision stood. */
    recordedDecision?: { workflowId: string; decision: PromotionDecision; reason: string; finishedAt: string } | null;
  };
  /** The labeling hand-off, for models whose spec has `labels` (absent in results of runs without). */
  labeling?: LabelingHandoffResult;
  /** Shadow, approval and canary, when the candidate took the live path (strategy 'safe' with a champion). */
  live: { shadow: ShadowEvaluationResult; approval: SafePromotionResult['approval']; canary: CanaryRolloutResult | null } | null;
  decision: PromotionDecision;
  reason: string;
  /** The champion when the run finished. */
  championVersion: number | null;
}

export interface RetrainingPipelineState {
  stage: PipelineStage;
  day: string;
  message: string;
}

export const pipelineStateQuery = defineQuery<RetrainingPipelineState>('pipelineState');

/**
 * The custom search attributes Retrain's workflows set, declared once: the workflows upsert
 * them and every process that connects to a namespace registers them, so waiting runs are
 * easy to find in the Web UI, e.g. `RetrainAwaitingApproval = true AND RetrainModel = "flight-delay"`.
 */
export const searchAttributes = {
  /** Model name from the model spec. */
  model: defineSearchAttributeKey('RetrainModel', SearchAttributeType.KEYWORD),
  /** Current pipeline stage: ingest, train, evaluate, shadow, awaiting-approval, canary, promote, done, failed. */
  stage: defineSearchAttributeKey('RetrainStage', SearchAttributeType.KEYWORD),
  /** True while the run waits for approvePromotion / rejectPromotion. */
  awaitingApproval: defineSearchAttributeKey('RetrainAwaitingApproval', SearchAttributeType.BOOL),
  /** The run's data window, e.g. "2001-01-08". */
  dataWindow: defineSearchAttributeKey('RetrainDataWindow', SearchAttributeType.KEYWORD),
} as const;

/** Every key of searchAttributes, for registration on a namespace. */
export const RETRAIN_SEARCH_ATTRIBUTE_KEYS = Object.values(searchAttributes);

/** Task queues by kind of work, derived from the control queue the pipeline runs on. */
export function taskQueuesFor(controlQueue: string) {
  return {
    control: controlQueue,
    data: `${controlQueue}.data`,
    train: `${controlQueue}.train`,
    eval: `${controlQueue}.eval`,
  } as const;
}

export const SHADOW_EVALUATION = 'shadowEvaluation';
export const CANARY_ROLLOUT = 'canaryRollout';

/** Sent by an on-call engineer (Temporal UI or `retrain approve|reject|rollback`); the UI sends no identity, so they name themselves. */
export interface PromotionDecisionInput {
  approver: string;
  reason?: string;
}

export interface PromotionDecisionResult {
  accepted: true;
  action: 'approve' | 'reject' | 'rollback';
  approver: string;
}

/**
 * A decision request the Update validator refused, as the workflow hands it to the worker
 * (`approvals.refused` sink, worker/approval-refusal-sink.ts) to record: a validator runs no
 * activity and writes nothing to the history, so a sink is how a refusal is still recorded.
 * `approver` and `reason` are already bounded (lib/policy/approver-check refusalRecord).
 */
export interface RefusedDecisionRequest {
  update: 'approvePromotion' | 'rejectPromotion';
  /** The Update's id (at most 100 characters), which names the row: a retried request is recorded once. */
  updateId: string;
  model: string;
  modelVersionId: string;
  approver: string | null;
  reason: string;
}

/** The sinks Retrain's workflows call; the control worker registers them with `callDuringReplay: false`. */
export interface RetrainSinks extends Sinks {
  approvals: {
    refused(request: RefusedDecisionRequest): void;
  };
}

export const approvePromotionUpdate = defineUpdate<PromotionDecisionResult, [PromotionDecisionInput]>('approvePromotion');
export const rejectPromotionUpdate = defineUpdate<PromotionDecisionResult, [PromotionDecisionInput]>('rejectPromotion');
/** Sent to a running canary (workflow id `<pipeline id>/canary`): all traffic goes back to the champion at once. */
export const rollbackUpdate = defineUpdate<PromotionDecisionResult, [PromotionDecisionInput]>('rollback');

/**
 * Sent by a canary to the pipeline run it is a child of (at each stage's start and, while a stage
 * waits, with its latest analysis at most every 30 s), so the pipeline's current details show the
 * stage, the share, the bake time left and each analysis. Handling it issues no command.
 */
export const canaryProgressSignal = defineSignal<[CanaryProgress]>('canaryProgress');
export type { CanaryProgress };

export interface CanaryState {
  stage: number;
  percent: number;
  message: string;
}
export const canaryStateQuery = defineQuery<CanaryState>('canaryState');

// The child workflows of the live path (shadowEvaluation, canaryRollout) and what the pipeline makes of them.

export interface ShadowEvaluationInput {
  model: string;
  candidateVersionId: string;
  candidateVersion: number;
  championVersionId: string;
  championVersion: number;
  holdoutDatasetId: string;
  spec: ShadowSpec;
}

export interface ShadowEvaluationResult {
  evaluationId: string;
  observation: ShadowObservation;
  verdict: ShadowVerdict;
}

export interface CanaryRolloutInput {
  model: string;
  candidateVersionId: string;
  candidateVersion: number;
  championVersionId: string;
  championVersion: number;
  approvers: string[];
  spec: CanarySpec;
}

export interface CanaryStageRecord {
  percent: number;
  verdict: 'pass' | 'fail' | 'rollback';
  reason: string;
  observation: CanaryObservation | null;
}

export interface CanaryRolloutResult {
  outcome: 'promoted' | 'rolled_back';
  reason: string;
  stages: CanaryStageRecord[];
  championVersion: number;
}

export interface SafePromotionResult {
  decision: 'promote' | 'reject';
  reason: string;
  championVersion: number;
  shadow: ShadowEvaluationResult;
  approval: { action: 'approve' | 'reject' | 'timeout'; approver: string | null; reason: string } | null;
  canary: CanaryRolloutResult | null;
}

/**
 * The failure type of a run whose input does not parse (non-retryable, raised at the start
 * of the run): its message names the workflow and every invalid field, e.g.
 * "invalid retrainingPipeline input: day: must be a date YYYY-MM-DD, got '2001-13-45'".
 */
export const INVALID_WORKFLOW_INPUT = 'InvalidWorkflowInput';

// The labeling hand-off (child workflow labelingHandoff, id `<pipeline id>/labeling`), for models whose spec has `labels`.

export const LABELING_HANDOFF = 'labelingHandoff';

export interface LabelingHandoffInput {
  /** The run's spec; its `labels` block says how to label. */
  spec: ModelSpec;
  day: string;
  /** The snapshot whose rows are labeled: the run's newest training partition. */
  datasetId: string;
  /** The champion that ranks the rows and pre-annotates them; null when the model has none yet. */
  championVersionId: string | null;
  pipelineWorkflowId: string;
  /** Set by continueAsNew: the batch already sent and how long it has been waited for. */
  resume?: LabelingHandoffResume;
}

export interface LabelingHandoffResume {
  batch: LabelingBatchSummary;
  /** Workflow time (ms) the wait started, in the first run of the chain. */
  waitStartedAt: number;
  escalations: number;
  reminders: number;
}

/** The batch as chosen and sent. */
export interface LabelingBatchSummary {
  batchId: string;
  items: number;
  uncertainty: number;
  random: number;
  /** Whether a champion ranked the rows (false: all random). */
  ranked: boolean;
  marginCutoff: number | null;
  tasksKey: string;
  /** The Label Studio project; null when no Label Studio is configured (labels arrive by `retrain labels import`). */
  projectId: number | null;
}

export interface LabelingHandoffResult {
  batch: LabelingBatchSummary;
  /** labeled: every item has its annotations (ties reported); proceeded: the timeout came with enough labeled. */
  status: 'labeled' | 'proceeded';
  reason: string;
  labeled: number;
  conflicts: number;
  ties: number;
  agreement: BatchAgreement;
  escalations: number;
  waitedSeconds: number;
}

/** Sent by Retrain's webhook endpoint (and `retrain labels import`) to a waiting labelingHandoff: look at the batch now. */
export interface LabelsChangedSignal {
  /** `webhook`: Label Studio said an annotation was made or changed; `import`: labels were imported from a file. */
  source: 'webhook' | 'import';
  taskId?: number;
}
export const labelsChangedSignal = defineSignal<[LabelsChangedSignal]>('labelsChanged');

/** What a waiting labelingHandoff shows (also in its current details). */
export interface LabelingState {
  batchId: string | null;
  items: number;
  labeled: number;
  pending: number;
  message: string;
}
export const labelingStateQuery = defineQuery<LabelingState>('labelingState');
