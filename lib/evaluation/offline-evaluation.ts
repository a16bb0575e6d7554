import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../spec/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { loadSliceKeys } from '../data/slice-keys-loader';
import { getDataset } from '../db/repositories/datasets';
import { findEvaluation, getEvaluation, insertEvaluation, type Evaluation } from '../db/repositories/evaluations';
import { findChampion, getModelVersion } from '../db/repositories/model-versions';
import { findRecordedDecision } from '../db/repositories/pipeline-runs';
import { listVersionTrainingDays } from '../db/repositories/version-lineage';
import { chooseHoldoutComparison, type HoldoutComparison } from '../policy/holdout-comparison';
import type { Database } from '../db/schema';
import { evaluateOfflineGates } from '../policy/offline-gates';
import type { ArtifactStore } from '../store/artifact-store';
import { HTML_REPORT_CONTENT_TYPE, reportLink } from '../store/report-links';
import { registerReportArtifact } from '../db/repositories/report-artifacts';
import { renderEvaluationReport } from './evaluation-report';
import { computeOfflineEvaluation, type OfflineEvaluationSummary } from '../stats/evaluation-summary';
import { scoreVersion } from '../scoring/score-version';

export interface OfflineEvaluationDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
  /**
   * The public base URL of the gateway that serves reports (`RETRAIN_REPORTS_BASE_URL`, or the
   * gateway `retrain up` starts): links are `<base>/reports/...` and never expire. Unset: presigned S3 links (7 days).
   */
  reportsBaseUrl?: string | null;
}

export interface OfflineEvaluationResult {
  evaluationId: string;
  summary: OfflineEvaluationSummary;
  /**
   * The HTML report in the store and the link to open it: the gateway's stable URL when a
   * reports base URL is configured, else a presigned S3 link valid for 7 days (results recorded
   * before the stable URL existed hold presigned links).
   */
  report: { key: string; url: string } | null;
  /** Which model the candidate was compared with, and why when it is not the champion. */
  comparison: HoldoutComparison;
  /**
   * An earlier run of this window already decided about this very version (the same inputs
   * trained it): its decision and evaluation stand, and nothing is compared again.
   */
  recorded: { workflowId: string; decision: 'promote' | 'reject' | 'unchanged'; reason: string; finishedAt: string } | null;
}

/**
 * Scores the candidate and a comparator on the same held-out snapshot, computes metrics,
 * per-slice metrics and paired bootstrap intervals, renders the HTML report, and records the
 * evaluation once per (candidate, holdout, comparator). The comparator is the champion unless
 * the champion learned from the held-out day (lib/policy/holdout-comparison.ts): no model is
 * ever scored on its own training data. A candidate an earlier run of the window decided about
 * keeps that run's evaluation and decision.
 */
export async function evaluateOffline(
  deps: OfflineEvaluationDeps,
  input: { spec: ModelSpec; candidateVersionId: string; holdoutDatasetId: string; workflowId: string },
): Promise<OfflineEvaluationResult> {
  const { spec } = input;
  const candidate = await getModelVersion(deps.db, input.candidateVersionId);
  const currentChampion = await findChampion(deps.db, spec.name);
  const holdout = await getDataset(deps.db, input.holdoutDatasetId);
  const chosen = chooseHoldoutComparison({
    holdoutDay: holdout.partitionDay,
    candidateVersionId: candidate.id,
    championVersionId: currentChampion?.id ?? null,
    versions: await listVersionTrainingDays(deps.db, spec.name),
  });
  const comparison = await withReadableComparator(deps.db, spec, chosen);
  const asResult = async (evaluation: Evaluation<OfflineEvaluationSummary>, recorded: OfflineEvaluationResult['recorded']): Promise<OfflineEvaluationResult> => ({
    evaluationId: evaluation.id,
    summary: evaluation.metrics,
    report: evaluation.report ? { key: evaluation.report.key, url: (await reportLink(deps.store, evaluation.report.key, deps.reportsBaseUrl ?? null)).url } : null,
    comparison,
    recorded,
  });

  const earlier = await findRecordedDecision(deps.db, spec.name, holdout.partitionDay, candidate.id);
  if (earlier?.evaluationId) {
    const recorded = { workflowId: earlier.workflowId, decision: earlier.decision, reason: earlier.reason, finishedAt: earlier.finishedAt.toISOString() };
    return asResult(await getEvaluation<OfflineEvaluationSummary>(deps.db, earlier.evaluationId), recorded);
  }

  const comparator =
    comparison.comparatorVersionId === null ? null : comparison.comparatorVersionId === currentChampion?.id ? currentChampion : await getModelVersion(deps.db, comparison.comparatorVersionId);
  const key = { modelVersionId: candidate.id, kind: 'offline' as const, datasetId: input.holdoutDatasetId, championVersionId: comparator?.id ?? null };
  const existing = await findEvaluation<OfflineEvaluationSummary>(deps.db, key);
  if (existing) return asResult(existing, null);

  const dir = await mkdtemp(path.join(deps.workDir, `evaluate-${spec.name}-`));
  try {
    const file = path.join(dir, 'holdout.parquet');
    await deps.store.downloadToFile({ key: holdout.snapshotKey, sha256: holdout.snapshotSha256 }, file);
    const table = await loadFeatureTable([file], spec);
    if (!table.label) throw new Error(`holdout ${holdout.partitionDay} has no labels`);
    const sliceKeys = await loadSliceKeys([file], spec, spec.evaluation.slices);
    const candidateScores = await scoreVersion(deps.store, candidate, table);
    // A candidate that is already the champion (a repeated run) is compared with itself.
    const championScores = !comparator ? null : comparator.id === candidate.id ? candidateScores : await scoreVersion(deps.store, comparator, table);

    const { summary, curves } = computeOfflineEvaluation({
      model: spec.name,
      holdoutDay: holdout.partitionDay,
      candidateVersion: candidate.version,
      championVersion: comparator?.version ?? null,
      labels: table.label,
      candidateScores,
      championScores,
      sliceKeys,
      spec: spec.evaluation,
    });
    const html = renderEvaluationReport({
      summary,
      curves,
      gates: evaluateOfflineGates(summary, spec.gates),
      title: `${spec.name} v${candidate.version}${comparator ? ` vs ${comparator.id === currentChampion?.id ? 'champion ' : ''}v${comparator.version}` : ''} on ${holdout.partitionDay}`,
      links: [],
      notes: comparison.note ? [comparison.note] : [],
    });
    // Stored as HTML (a link opens it instead of downloading it) and registered: the gateway serves only registered reports.
    const report = await deps.store.putBytes(`reports/${spec.name}`, Buffer.from(html, 'utf8'), '.html', { contentType: HTML_REPORT_CONTENT_TYPE });
    await registerReportArtifact(deps.db, { key: report.key, sha256: report.sha256, contentType: HTML_REPORT_CONTENT_TYPE, model: spec.name, kind: 'evaluation', workflowId: input.workflowId });
    const evaluation = await insertEvaluation<OfflineEvaluationSummary>(deps.db, {
      ...key,
      metrics: summary,
      championMetrics: summary.champion,
      report: { key: report.key, sha256: report.sha256 },
      workflowId: input.workflowId,
    });
    return asResult(evaluation, null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}


/**
 * The holdout table is built with this run's features; a comparator whose serving contract reads a
 * feature they do not compute (a run marked as a breaking change) cannot be scored on it, so the
 * candidate is then held to the absolute gates, and the comparison says why.
 */
async function withReadableComparator(db: Kysely<Database>, spec: ModelSpec, comparison: HoldoutComparison): Promise<HoldoutComparison> {
  if (comparison.comparatorVersionId === null) return comparison;
  const comparator = await getModelVersion(db, comparison.comparatorVersionId);
  const computed = new Map(spec.features.map((f) => [f.name, f.kind]));
  const unreadable = comparator.contract.features.filter((f) => computed.get(f.name) !== f.kind).map((f) => f.name);
  if (unreadable.length === 0) return comparison;
  const why = `v${comparator.version} reads ${unreadable.map((n) => `'${n}'`).join(', ')}, which this run's features do not compute as it does: compared with no model, absolute gates only`;
  return { ...comparison, comparatorVersionId: null, comparatorVersion: null, note: [comparison.note, why].filter(Boolean).join('; ') };
}
