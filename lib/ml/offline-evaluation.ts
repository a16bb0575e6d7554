import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../config/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { getDataset } from '../db/repositories/datasets';
import { findEvaluation, insertEvaluation } from '../db/repositories/evaluations';
import { findChampion, getModelVersion, type ModelVersion } from '../db/repositories/model-versions';
import type { Database } from '../db/schema';
import type { ArtifactStore } from '../store/artifact-store';
import type { FeatureTable } from './feature-table';
import { evaluateBinaryClassifier, type BinaryClassifierMetrics } from './metrics';
import { loadOnnxScorer } from './onnx-scorer';

export interface OfflineEvaluationDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
}

export interface OfflineEvaluationResult {
  evaluationId: string;
  candidate: BinaryClassifierMetrics;
  /** The champion's metrics on the same holdout; null when there is no other champion. */
  champion: BinaryClassifierMetrics | null;
  championVersion: number | null;
}

/** Scores a model version's ONNX artifact (checksum verified) on a feature table. */
export async function scoreVersion(store: ArtifactStore, version: ModelVersion, table: FeatureTable): Promise<Float64Array> {
  const bytes = await store.getBytes({ key: version.artifactKey, sha256: version.artifactSha256 });
  const scorer = await loadOnnxScorer(bytes);
  try {
    return await scorer.scorePositive(table);
  } finally {
    await scorer.release();
  }
}

/**
 * Scores the candidate and the current champion on the same held-out snapshot
 * and records the evaluation once per (candidate, holdout, champion).
 */
export async function evaluateOffline(
  deps: OfflineEvaluationDeps,
  input: { spec: ModelSpec; candidateVersionId: string; holdoutDatasetId: string; workflowId: string },
): Promise<OfflineEvaluationResult> {
  const candidate = await getModelVersion(deps.db, input.candidateVersionId);
  const currentChampion = await findChampion(deps.db, input.spec.name);
  const championVersion = currentChampion?.version ?? null;
  const key = { modelVersionId: candidate.id, kind: 'offline' as const, datasetId: input.holdoutDatasetId, championVersionId: currentChampion?.id ?? null };
  const existing = await findEvaluation<BinaryClassifierMetrics>(deps.db, key);
  if (existing) return { evaluationId: existing.id, candidate: existing.metrics, champion: existing.championMetrics, championVersion };

  const holdout = await getDataset(deps.db, input.holdoutDatasetId);
  const dir = await mkdtemp(path.join(deps.workDir, `evaluate-${input.spec.name}-`));
  try {
    const file = path.join(dir, 'holdout.parquet');
    await deps.store.downloadToFile({ key: holdout.snapshotKey, sha256: holdout.snapshotSha256 }, file);
    const table = await loadFeatureTable([file], input.spec);
    if (!table.label) throw new Error(`holdout ${holdout.partitionDay} has no labels`);
    const labels = table.label;
    const candidateMetrics = evaluateBinaryClassifier(labels, await scoreVersion(deps.store, candidate, table));
    // A candidate that is already the champion (a repeated run) is its own comparison.
    const championMetrics = !currentChampion
      ? null
      : currentChampion.id === candidate.id
        ? candidateMetrics
        : evaluateBinaryClassifier(labels, await scoreVersion(deps.store, currentChampion, table));
    const evaluation = await insertEvaluation(deps.db, { ...key, metrics: candidateMetrics, championMetrics, workflowId: input.workflowId });
    return { evaluationId: evaluation.id, candidate: evaluation.metrics, champion: evaluation.championMetrics, championVersion };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
