import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { DriftReportStatus, DriftReportTable, DriftScoreSource } from '../schema';
import type { DbExecutor } from '../executor';

/** A drift monitor pass as stored (drift_reports); `report` is the whole report (lib/monitoring/drift-report.ts). */
export interface StoredDriftReport {
  id: string;
  model: string;
  modelVersionId: string | null;
  workflowId: string;
  windowStart: Date;
  windowEnd: Date;
  status: DriftReportStatus;
  requests: number;
  testedFeatures: number;
  driftedFeatures: number;
  estimatedAccuracy: number | null;
  realizedAccuracy: number | null;
  labelled: number;
  triggerCrossed: boolean;
  triggerReason: string;
  triggeredWorkflowId: string | null;
  triggeredAt: Date | null;
  report: unknown;
  reportKey: string | null;
  reportSha256: string | null;
  createdAt: Date;
}

export interface DriftScoreRow {
  source: DriftScoreSource;
  feature: string;
  method: string;
  score: number | null;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
}

export type NewDriftReport = Omit<StoredDriftReport, 'id' | 'triggeredWorkflowId' | 'triggeredAt' | 'createdAt'> & { scores: readonly DriftScoreRow[] };

type Row = Selectable<DriftReportTable>;

function toReport(row: Row): StoredDriftReport {
  return {
    id: String(row.id),
    model: row.model,
    modelVersionId: row.model_version_id === null ? null : String(row.model_version_id),
    workflowId: row.workflow_id,
    windowStart: row.window_start,
    windowEnd: row.window_end,
    status: row.status,
    requests: row.requests,
    testedFeatures: row.tested_features,
    driftedFeatures: row.drifted_features,
    estimatedAccuracy: row.estimated_accuracy,
    realizedAccuracy: row.realized_accuracy,
    labelled: row.labelled,
    triggerCrossed: row.trigger_crossed,
    triggerReason: row.trigger_reason,
    triggeredWorkflowId: row.triggered_workflow_id,
    triggeredAt: row.triggered_at,
    report: row.report,
    reportKey: row.report_key,
    reportSha256: row.report_sha256,
    createdAt: row.created_at,
  };
}

/**
 * Records a pass's report and its scores in one transaction, once per workflow id: a retried
 * activity (or a repeated pass of the same window) gets the row written first, unchanged.
 */
export async function insertDriftReport(db: DbExecutor, report: NewDriftReport): Promise<{ report: StoredDriftReport; created: boolean }> {
  const inserted = await db
    .insertInto('drift_reports')
    .values({
      model: report.model,
      model_version_id: report.modelVersionId,
      workflow_id: report.workflowId,
      window_start: report.windowStart,
      window_end: report.windowEnd,
      status: report.status,
      requests: report.requests,
      tested_features: report.testedFeatures,
      drifted_features: report.driftedFeatures,
      estimated_accuracy: report.estimatedAccuracy,
      realized_accuracy: report.realizedAccuracy,
      labelled: report.labelled,
      trigger_crossed: report.triggerCrossed,
      trigger_reason: report.triggerReason,
      report: JSON.stringify(report.report),
      report_key: report.reportKey,
      report_sha256: report.reportSha256,
    })
    .onConflict((oc) => oc.column('workflow_id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!inserted) {
    const existing = await findDriftReportByWorkflow(db, report.workflowId);
    if (!existing) throw new Error(`drift report of ${report.workflowId} vanished after a conflicting insert`);
    return { report: existing, created: false };
  }
  if (report.scores.length > 0) {
    await db
      .insertInto('drift_feature_scores')
      .values(
        report.scores.map((s) => ({
          report_id: inserted.id,
          source: s.source,
          feature: s.feature,
          method: s.method,
          score: s.score,
          p_value: s.pValue,
          threshold: s.threshold,
          drifted: s.drifted,
        })),
      )
      .onConflict((oc) => oc.columns(['report_id', 'source', 'feature', 'method']).doNothing())
      .execute();
  }
  return { report: toReport(inserted as Row), created: true };
}

export async function findDriftReportByWorkflow(db: DbExecutor, workflowId: string): Promise<StoredDriftReport | undefined> {
  const row = await db.selectFrom('drift_reports').selectAll().where('workflow_id', '=', workflowId).executeTakeFirst();
  return row && toReport(row as Row);
}

/** A model's reports, oldest first. */
export async function listDriftReports(db: DbExecutor, model: string): Promise<StoredDriftReport[]> {
  const rows = await db.selectFrom('drift_reports').selectAll().where('model', '=', model).orderBy('window_end').orderBy('id').execute();
  return rows.map((r) => toReport(r as Row));
}

export async function listDriftScores(db: DbExecutor, reportId: string): Promise<DriftScoreRow[]> {
  const rows = await db.selectFrom('drift_feature_scores').selectAll().where('report_id', '=', reportId).orderBy('source').orderBy('feature').execute();
  return rows.map((r) => ({ source: r.source, feature: r.feature, method: r.method, score: r.score, pValue: r.p_value, threshold: r.threshold, drifted: r.drifted }));
}

/**
 * Records that a report started a retraining run. Once: a report starts at most one run (the
 * column is unique, and a report already marked keeps its run), so a retried activity changes nothing.
 */
export async function markRetrainingTriggered(db: DbExecutor, reportId: string, workflowId: string): Promise<void> {
  await db
    .updateTable('drift_reports')
    .set({ triggered_workflow_id: workflowId, triggered_at: sql<Date>`now()` })
    .where('id', '=', reportId)
    .where('triggered_workflow_id', 'is', null)
    .execute();
}

/** What the trigger needs to know besides the report: a retraining run in progress for the model, and when a report last started one. */
export interface RetrainingActivity {
  /** A pipeline run of the model that is running, or one a report started that has not recorded its finish; null: none. */
  running: { workflowId: string; since: Date } | null;
  lastTriggered: { workflowId: string; at: Date; reportId: string } | null;
}

export async function retrainingActivity(db: DbExecutor, model: string): Promise<RetrainingActivity> {
  const running = await db
    .selectFrom('pipeline_runs')
    .select(['workflow_id', 'started_at'])
    .where('model', '=', model)
    .where('status', '=', 'running')
    .orderBy('started_at', 'desc')
    .executeTakeFirst();
  const last = await db
    .selectFrom('drift_reports')
    .select(['id', 'triggered_workflow_id', 'triggered_at'])
    .where('model', '=', model)
    .where('triggered_workflow_id', 'is not', null)
    .orderBy('triggered_at', 'desc')
    .executeTakeFirst();
  let inProgress = running ? { workflowId: running.workflow_id, since: running.started_at } : null;
  if (!inProgress && last?.triggered_workflow_id) {
    // A run a report started is in progress until it records its finish: between the start and its first activity it has no pipeline_runs row yet.
    const finished = await db.selectFrom('pipeline_runs').select('status').where('workflow_id', '=', last.triggered_workflow_id).where('status', '!=', 'running').executeTakeFirst();
    if (!finished) inProgress = { workflowId: last.triggered_workflow_id, since: last.triggered_at! };
  }
  return {
    running: inProgress,
    lastTriggered: last?.triggered_workflow_id ? { workflowId: last.triggered_workflow_id, at: last.triggered_at!, reportId: String(last.id) } : null,
  };
}

/**
 * The gauges of each monitored model's latest report, for the metrics exporter:
 * `retrain_feature_drift_score{model,version,feature,method}` (one per feature and test of the
 * prediction log's window; `source` tells requests from ingested partitions and the class mixes),
 * and `retrain_estimated_accuracy_ratio{model,version}` (CBPE, the champion's expected accuracy on
 * the window's requests) next to the realized accuracy on the labels that arrived.
 * `version` is the champion's version number the report judged.
 */
export interface DriftGauges {
  featureScores: Array<{ model: string; version: number; source: DriftScoreSource; feature: string; method: string; score: number; threshold: number; drifted: boolean; reportId: string }>;
  accuracy: Array<{ model: string; version: number; estimated: number | null; realized: number | null; labelled: number; reportId: string; windowEnd: Date }>;
}

export async function latestDriftGauges(db: DbExecutor, model?: string): Promise<DriftGauges> {
  let latest = db
    .selectFrom('drift_reports as r')
    .innerJoin('model_versions as v', 'v.id', 'r.model_version_id')
    .distinctOn('r.model')
    .select(['r.id', 'r.model', 'v.version', 'r.estimated_accuracy', 'r.realized_accuracy', 'r.labelled', 'r.window_end'])
    .where('r.status', '=', 'ok')
    .orderBy('r.model')
    .orderBy('r.window_end', 'desc')
    .orderBy('r.id', 'desc');
  if (model) latest = latest.where('r.model', '=', model);
  const reports = await latest.execute();
  if (reports.length === 0) return { featureScores: [], accuracy: [] };
  const byId = new Map(reports.map((r) => [String(r.id), r]));
  const scores = await db
    .selectFrom('drift_feature_scores')
    .selectAll()
    .where('report_id', 'in', [...byId.keys()])
    .where('score', 'is not', null)
    .orderBy('report_id')
    .orderBy('source')
    .orderBy('feature')
    .execute();
  return {
    featureScores: scores.map((s) => {
      const r = byId.get(String(s.report_id))!;
      return { model: r.model, version: r.version, source: s.source, feature: s.feature, method: s.method, score: s.score!, threshold: s.threshold, drifted: s.drifted, reportId: String(s.report_id) };
    }),
    accuracy: reports.map((r) => ({ model: r.model, version: r.version, estimated: r.estimated_accuracy, realized: r.realized_accuracy, labelled: r.labelled, reportId: String(r.id), windowEnd: r.window_end })),
  };
}
