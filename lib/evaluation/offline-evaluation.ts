import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../spec/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { loadSliceKeys } from '../data/slice-keys-loader';
import { getDataset } from '../db/repositories/datasets';
import { findEvaluation, insertEvaluation } from '../db/repositories/evaluations';
import { findChampion, getModelVersion } from '../db/repositories/model-versions';
import type { Database } from '../db/schema';
import { evaluateOfflineGates } from '../policy/offline-gates';
import type { ArtifactStore } from '../store/artifact-store';
import { renderEvaluationReport } from './evaluation-report';
import { computeOfflineEvaluation, type OfflineEvaluationSummary } from '../stats/evaluation-summary';
import { scoreVersion } from '../scoring/score-version';

export interface OfflineEvaluationDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
}

export interface OfflineEvaluationResult {
  evaluationId: string;
  summary: OfflineEvaluationSummary;
  /** The HTML report in the store, with a link valid for 7 days. */
  report: { key: string; url: string } | null;
}

/**
 * Scores the candidate and the current champion on the same held-out snapshot,
 * computes metrics, per-slice metrics and paired bootstrap intervals, renders the
 * HTML report, and records the evaluation once per (candidate, holdout, champion).
 */
export async function evaluateOffline(
  deps: OfflineEvaluationDeps,
  input: { spec: ModelSpec; candidateVersionId: string; holdoutDatasetId: string; workflowId: string },
): Promise<OfflineEvaluationResult> {
  const { spec } = input;
  const candidate = await getModelVersion(deps.db, input.candidateVersionId);
  const currentChampion = await findChampion(deps.db, spec.name);
  const key = { modelVersionId: candidate.id, kind: 'offline' as const, datasetId: input.holdoutDatasetId, championVersionId: currentChampion?.id ?? null };
  const existing = await findEvaluation<OfflineEvaluationSummary>(deps.db, key);
  if (existing) {
    const report = existing.report ? { key: existing.report.key, url: await deps.store.presignedUrl(existing.report.key) } : null;
    return { evaluationId: existing.id, summary: existing.metrics, report };
  }

  const holdout = await getDataset(deps.db, input.holdoutDatasetId);
  const dir = await mkdtemp(path.join(deps.workDir, `evaluate-${spec.name}-`));
  try {
    const file = path.join(dir, 'holdout.parquet');
    await deps.store.downloadToFile({ key: holdout.snapshotKey, sha256: holdout.snapshotSha256 }, file);
    const table = await loadFeatureTable([file], spec);
    if (!table.label) throw new Error(`holdout ${holdout.partitionDay} has no labels`);
    const sliceKeys = await loadSliceKeys([file], spec, spec.evaluation.slices);
    const candidateScores = await scoreVersion(deps.store, candidate, table);
    // A candidate that is already the champion (a repeated run) is compared with itself.
    const championScores = !currentChampion ? null : currentChampion.id === candidate.id ? candidateScores : await scoreVersion(deps.store, currentChampion, table);

    const { summary, curves } = computeOfflineEvaluation({
      model: spec.name,
      holdoutDay: holdout.partitionDay,
      candidateVersion: candidate.version,
      championVersion: currentChampion?.version ?? null,
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
      title: `${spec.name} v${candidate.version}${currentChampion ? ` vs champion v${currentChampion.version}` : ''} on ${holdout.partitionDay}`,
      links: [],
    });
    const report = await deps.store.putBytes(`reports/${spec.name}`, Buffer.from(html, 'utf8'), '.html');
    const evaluation = await insertEvaluation<OfflineEvaluationSummary>(deps.db, {
      ...key,
      metrics: summary,
      championMetrics: summary.champion,
      report: { key: report.key, sha256: report.sha256 },
      workflowId: input.workflowId,
    });
    return { evaluationId: evaluation.id, summary: evaluation.metrics, report: { key: report.key, url: await deps.store.presignedUrl(report.key) } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

