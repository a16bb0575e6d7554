import type { ColumnType, Generated, Selectable } from 'kysely';

/** JSON columns: written as strings (pg serialises objects), read back parsed. */
type Json<T> = ColumnType<T, string, string>;
type CreatedAt = ColumnType<Date, never, never>;

/** Stages a model version moves through; later issues add shadow and canary transitions. */
export type ModelVersionStage = 'candidate' | 'rejected' | 'shadow' | 'canary' | 'champion' | 'archived' | 'rolled_back';
export type PipelineRunStatus = 'running' | 'succeeded' | 'failed';

export interface ModelTable {
  name: string;
  spec: Json<unknown>;
  workflow_id: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
}

/** One immutable snapshot of one source partition, identified by the hash of its source content. */
export interface DatasetTable {
  id: Generated<string>;
  model: string;
  partition_day: string;
  source_hash: string;
  snapshot_key: string;
  snapshot_sha256: string;
  size_bytes: string;
  row_count: string;
  column_stats: Json<unknown>;
  workflow_id: string;
  created_at: CreatedAt;
}

export interface TrainingRunTable {
  id: Generated<string>;
  model: string;
  /** sha256 over the training inputs (dataset snapshots, trainer settings, warm start): same inputs, same run. */
  fingerprint: string;
  dataset_ids: ColumnType<string[], string[], string[]>;
  trainer: Json<unknown>;
  mode: string;
  mode_reason: string;
  metrics: Json<unknown>;
  duration_ms: number;
  window_day: string | null;
  base_version_id: string | null;
  context: Json<unknown> | null;
  logs_key: string | null;
  workflow_id: string;
  created_at: CreatedAt;
}

export interface ModelVersionTable {
  id: Generated<string>;
  model: string;
  version: number;
  training_run_id: string;
  artifact_key: string;
  artifact_sha256: string;
  artifact_size: string;
  stage: ModelVersionStage;
  stage_reason: ColumnType<string, string | undefined, string>;
  training_signature: ColumnType<string, string | undefined, string>;
  weights_key: string | null;
  weights_sha256: string | null;
  /** The version's serving contract (lib/spec/serving-contract.ts), written at registration; never updated. */
  contract: ColumnType<unknown, string, never>;
  workflow_id: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
}

export interface EvaluationTable {
  id: Generated<string>;
  model_version_id: string;
  kind: 'offline' | 'shadow' | 'canary';
  dataset_id: string;
  champion_version_id: string | null;
  metrics: Json<unknown>;
  champion_metrics: Json<unknown> | null;
  passed: boolean | null;
  reason: string | null;
  report_key: string | null;
  report_sha256: string | null;
  workflow_id: string;
  created_at: CreatedAt;
}

export interface PipelineRunTable {
  workflow_id: string;
  run_id: string;
  model: string;
  window_day: string;
  status: PipelineRunStatus;
  result: Json<unknown> | null;
  error: string | null;
  started_at: CreatedAt;
  finished_at: Date | null;
}

/** Predictions of one model version on one dataset snapshot (batch inference); one row per pair. */
export interface PredictionBatchTable {
  id: Generated<string>;
  model_version_id: string;
  dataset_id: string;
  output_key: string;
  output_sha256: string;
  row_count: string;
  workflow_id: string | null;
  created_at: CreatedAt;
}

// --- serving (migration 2026-11-26-0004-serving) ---

/** Where a model version's gateway traffic comes from: served (champion, canary) or mirrored (shadow). */
export type DeploymentRole = 'champion' | 'canary' | 'shadow';

/** One row per served model: which versions take its traffic. Changes are announced with NOTIFY retrain_deployments. */
export interface DeploymentTable {
  model: string;
  champion_version_id: string | null;
  canary_version_id: string | null;
  canary_weight: ColumnType<number, number | undefined, number>;
  shadow_version_id: string | null;
  revision: ColumnType<string, string | undefined, string>;
  updated_by: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Every traffic change, once per (model, change_key). */
export interface DeploymentChangeTable {
  id: Generated<string>;
  model: string;
  revision: string;
  before: Json<unknown>;
  after: Json<unknown>;
  reason: string;
  change_key: string;
  workflow_id: string | null;
  created_at: CreatedAt;
}

/** The gateway's prediction log: one row per instance scored by one version (served or shadow). */
/**
 * One row per scored instance and version. At most one served row (role champion or canary,
 * error null) per (model, request_id): index predictions_served_request_unique (migration 0101).
 */
export interface PredictionTable {
  id: Generated<string>;
  model: string;
  request_id: string;
  routing_key: string | null;
  model_version_id: string;
  role: DeploymentRole;
  /** Null on shadow rows: the serving row of the same request id holds them. */
  features: Json<unknown> | null;
  probability: number | null;
  predicted_label: number | null;
  latency_ms: number;
  scored_alone: ColumnType<boolean, boolean | undefined, boolean>;
  error: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** Ground truth for a served request, once per (model, request_id). */
/** Ground truth, once per (model, request_id); the gateway writes it after the request's prediction row. */
export interface FeedbackTable {
  id: Generated<string>;
  model: string;
  request_id: string;
  label: number;
  created_at: CreatedAt;
}

/** 'awaiting': the run started waiting for a decision (migration 2026-12-01-0401); approver null, reason names who may decide. */
export type ApprovalAction = 'approve' | 'reject' | 'rollback' | 'refused' | 'timeout' | 'escalated' | 'awaiting';

export interface ApprovalTable {
  id: Generated<string>;
  workflow_id: string;
  event_key: string;
  model: string;
  model_version_id: string;
  action: ApprovalAction;
  approver: string | null;
  reason: string;
  created_at: CreatedAt;
}

// --- approvals configuration (migrations 2026-12-01-0202, 0203) ---

/** Who may approve a model's promotions: set by an operator (`retrain approvers set`), one row per model. */
export interface ApproverPolicyTable {
  model: string;
  approvers: ColumnType<string[], string[], string[]>;
  revision: ColumnType<string, string, string>;
  updated_by: string;
  reason: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Every change of an approver policy, written by a trigger on approver_policies. */
export interface ApproverPolicyChangeTable {
  id: Generated<string>;
  model: string;
  revision: string;
  approvers_before: string[] | null;
  approvers_after: string[];
  changed_by: string;
  /** The database role that wrote the change (current_user). */
  database_user: Generated<string>;
  reason: string;
  created_at: CreatedAt;
}

/** Refused approval requests per run and minute (only the first few of each minute get an approvals row). */
export interface ApprovalRefusalCountTable {
  workflow_id: string;
  window_start: Date;
  refusals: number;
}

// --- drift monitoring (migration 2026-12-01-0701) ---

export type DriftReportStatus = 'ok' | 'insufficient_data' | 'no_champion';
export type DriftScoreSource = 'requests' | 'ingested' | 'prediction' | 'label';

/** One drift monitor pass: window, champion, verdict, trigger decision, the run it started, the report (JSON here, HTML in S3). */
export interface DriftReportTable {
  id: Generated<string>;
  model: string;
  model_version_id: string | null;
  workflow_id: string;
  window_start: Date;
  window_end: Date;
  status: DriftReportStatus;
  requests: number;
  tested_features: number;
  drifted_features: number;
  estimated_accuracy: number | null;
  realized_accuracy: number | null;
  labelled: ColumnType<number, number | undefined, number>;
  trigger_crossed: boolean;
  trigger_reason: string;
  triggered_workflow_id: string | null;
  triggered_at: Date | null;
  report: Json<unknown>;
  report_key: string | null;
  report_sha256: string | null;
  created_at: CreatedAt;
}

/** Each test's score per feature and report: what the metrics exporter turns into gauges. */
export interface DriftFeatureScoreTable {
  report_id: string;
  source: DriftScoreSource;
  feature: string;
  method: string;
  score: number | null;
  p_value: number | null;
  threshold: number;
  drifted: boolean;
}

// --- history of stages (migration 2026-12-01-0301) ---

/** One stage change of one version (or its registration); append-only, written with the change itself. */
export interface VersionStageEventTable {
  id: Generated<string>;
  model_version_id: string;
  model: string;
  version: number;
  from_stage: ModelVersionStage | null;
  to_stage: ModelVersionStage;
  reason: string;
  workflow_id: string | null;
  /** True for the one row each version registered before the migration got (its stage then). */
  backfilled: ColumnType<boolean, boolean | undefined, never>;
  created_at: CreatedAt;
}

// --- reports served at a stable URL (migration 2026-12-01-0302) ---

export type ReportKind = 'evaluation' | 'drift' | 'backtest';

/** An HTML report the gateway may serve (`GET /reports/<key>`): only registered keys are served, with this type and checksum. */
export interface ReportArtifactTable {
  key: string;
  sha256: string;
  content_type: string;
  model: string;
  kind: ReportKind;
  workflow_id: string | null;
  created_at: CreatedAt;
}

// --- notifications (migration 2026-12-01-0401) ---

export type NotificationState = 'pending' | 'delivered' | 'failed';

/** One attempt to deliver a notification, as recorded in notifications.outcomes. */
export interface NotificationAttemptOutcome {
  at: string;
  /** The HTTP status answered; null when there was no answer. */
  status: number | null;
  error: string | null;
  ms: number;
}

/** One notification of one event of a run to one target, with every delivery attempt's outcome. */
export interface NotificationTable {
  id: Generated<string>;
  workflow_id: string;
  run_id: string;
  event_key: string;
  event: string;
  model: string;
  /** The target's format, origin and a hash of its URL (the URL may hold a token and is not stored). */
  target: string;
  format: 'json' | 'slack';
  payload_sha256: string;
  attempts: ColumnType<number, never, number>;
  last_status: ColumnType<number | null, never, number | null>;
  last_error: ColumnType<string | null, never, string | null>;
  outcomes: ColumnType<NotificationAttemptOutcome[], never, string>;
  state: ColumnType<NotificationState, never, NotificationState>;
  delivered_at: ColumnType<Date | null, never, Date | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
}

// --- labels from people (migration 2026-12-01-0601) ---

export type LabelBatchStatus = 'open' | 'labeled' | 'proceeded' | 'failed';
export type LabelItemResolution = 'pending' | 'unanimous' | 'majority' | 'review' | 'tie';
export type LabelSource = 'webhook' | 'poll' | 'import';

/** One labeling hand-off: the rows a run sent to Label Studio and how the wait ended. */
export interface LabelBatchTable {
  id: Generated<string>;
  model: string;
  workflow_id: string;
  pipeline_workflow_id: string;
  day: ColumnType<string, string, never>;
  dataset_id: string;
  champion_version_id: string | null;
  classes: Json<unknown>;
  annotators_per_item: number;
  conflict_rule: 'majority' | 'review';
  selection: Json<unknown>;
  status: ColumnType<LabelBatchStatus, LabelBatchStatus | undefined, LabelBatchStatus>;
  status_reason: string | null;
  project_id: number | null;
  tasks_key: string | null;
  agreement: Json<unknown> | null;
  created_at: CreatedAt;
  closed_at: Date | null;
}

/** One row sent to labeling, keyed by its row key in the snapshot. */
export interface LabelItemTable {
  id: Generated<string>;
  batch_id: string;
  row_key: string;
  row_index: number;
  reason: 'uncertainty' | 'random';
  margin: number | null;
  probabilities: Json<unknown> | null;
  task_id: number | null;
  resolution: LabelItemResolution | null;
  value: number | null;
  agreement: number | null;
}

/** One annotator's current answer for one item. */
export interface LabelTable {
  id: Generated<string>;
  batch_id: string;
  item_id: string;
  value: number;
  annotator: string;
  annotation_id: string | null;
  labeled_at: Date;
  source: LabelSource;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface Database {
  models: ModelTable;
  datasets: DatasetTable;
  training_runs: TrainingRunTable;
  model_versions: ModelVersionTable;
  evaluations: EvaluationTable;
  pipeline_runs: PipelineRunTable;
  prediction_batches: PredictionBatchTable;
  approvals: ApprovalTable;
  deployments: DeploymentTable;
  deployment_changes: DeploymentChangeTable;
  predictions: PredictionTable;
  feedback: FeedbackTable;
  approver_policies: ApproverPolicyTable;
  approver_policy_changes: ApproverPolicyChangeTable;
  approval_refusal_counts: ApprovalRefusalCountTable;
  drift_reports: DriftReportTable;
  drift_feature_scores: DriftFeatureScoreTable;
  version_stage_events: VersionStageEventTable;
  report_artifacts: ReportArtifactTable;
  notifications: NotificationTable;
  label_batches: LabelBatchTable;
  label_items: LabelItemTable;
  labels: LabelTable;
}

export type DatasetRow = Selectable<DatasetTable>;
export type ModelVersionRow = Selectable<ModelVersionTable>;
export type TrainingRunRow = Selectable<TrainingRunTable>;
export type EvaluationRow = Selectable<EvaluationTable>;
export type PipelineRunRow = Selectable<PipelineRunTable>;
export type PredictionBatchRow = Selectable<PredictionBatchTable>;
export type DeploymentRow = Selectable<DeploymentTable>;
export type DeploymentChangeRow = Selectable<DeploymentChangeTable>;
export type PredictionRow = Selectable<PredictionTable>;
export type FeedbackRow = Selectable<FeedbackTable>;
export type ApprovalRow = Selectable<ApprovalTable>;
export type VersionStageEventRow = Selectable<VersionStageEventTable>;
export type NotificationRow = Selectable<NotificationTable>;
