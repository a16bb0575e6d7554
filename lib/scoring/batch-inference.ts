import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { parseRecordedModelSpec, type ModelSpec } from '../spec/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { writePredictionsParquet } from '../data/predictions-writer';
import { getDataset } from '../db/repositories/datasets';
import { getModelVersion } from '../db/repositories/model-versions';
import { findPredictionBatch, insertPredictionBatch, type PredictionBatch } from '../db/repositories/prediction-batches';
import type { Database } from '../db/schema';
import type { ArtifactStore } from '../store/artifact-store';
import { scoreVersion } from './score-version';

export interface BatchInferenceDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  /** Scratch space; the run's own subdirectory is removed when it ends. */
  workDir: string;
}

export interface BatchInferenceInput {
  modelVersionId: string;
  datasetId: string;
  workflowId?: string;
  /** The spec to compute features with; defaults to the spec stored for the version's model. */
  spec?: ModelSpec;
}

export interface BatchInferenceResult {
  batchId: string;
  model: string;
  modelVersion: number;
  modelVersionId: string;
  datasetId: string;
  /** Content-addressed predictions Parquet in the artifact store: `predictions/<model>/<sha256>.parquet`. */
  outputKey: string;
  outputSha256: string;
  rowCount: number;
  /** True when this version had scored this dataset before and nothing was computed. */
  reused: boolean;
}

export type BatchInferencePhase = 'downloading' | 'scoring' | 'writing' | 'uploading';

/**
 * Scores every row of a dataset snapshot with a model version and stores the predictions
 * (see writePredictionsParquet for the columns). Both artifacts are checksum-verified on
 * download, and scoring is the offline evaluation's (scoreVersion), so a built-in and an
 * external model are served by the same code. Idempotent: one batch per (version, dataset).
 */
export async function scoreDatasetSnapshot(
  deps: BatchInferenceDeps,
  input: BatchInferenceInput,
  onPhase?: (phase: BatchInferencePhase) => void,
): Promise<BatchInferenceResult> {
  const version = await getModelVersion(deps.db, input.modelVersionId);
  const result = (batch: PredictionBatch, reused: boolean): BatchInferenceResult => ({
    batchId: batch.id,
    model: version.model,
    modelVersion: version.version,
    modelVersionId: version.id,
    datasetId: batch.datasetId,
    outputKey: batch.outputKey,
    outputSha256: batch.outputSha256,
    rowCount: batch.rowCount,
    reused,
  });
  const existing = await findPredictionBatch(deps.db, version.id, input.datasetId);
  if (existing) return result(existing, true);

  const dataset = await getDataset(deps.db, input.datasetId);
  const spec = input.spec ?? (await storedSpec(deps.db, version.model));
  if (spec.name !== version.model) throw new Error(`spec '${spec.name}' is not the spec of model version ${version.id} (model '${version.model}')`);

  const dir = await mkdtemp(path.join(deps.workDir, `predict-${version.model}-v${version.version}-`));
  try {
    onPhase?.('downloading');
    const snapshot = path.join(dir, 'snapshot.parquet');
    await deps.store.downloadToFile({ key: dataset.snapshotKey, sha256: dataset.snapshotSha256 }, snapshot);
    onPhase?.('scoring');
    // Every row is scored, labelled or not; the label is recomputed into the output by the writer.
    const table = await loadFeatureTable([snapshot], spec, { withLabel: false });
    const scores = await scoreVersion(deps.store, version, table);
    onPhase?.('writing');
    const out = path.join(dir, 'predictions.parquet');
    const { rowCount } = await writePredictionsParquet({ snapshotFiles: [snapshot], spec, scores, modelVersion: version.version, outFile: out });
    if (rowCount !== dataset.rowCount) throw new Error(`wrote ${rowCount} predictions for dataset ${dataset.id} of ${dataset.rowCount} rows`);
    onPhase?.('uploading');
    const artifact = await deps.store.putFile(`predictions/${version.model}`, out, '.parquet');
    const { batch, created } = await insertPredictionBatch(deps.db, {
      modelVersionId: version.id,
      datasetId: dataset.id,
      outputKey: artifact.key,
      outputSha256: artifact.sha256,
      rowCount,
      workflowId: input.workflowId ?? null,
    });
    return result(batch, !created);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The spec the model was last registered with (models.spec), parsed at the edge like any stored JSON (leniently: see parseRecordedModelSpec). */
async function storedSpec(db: Kysely<Database>, model: string): Promise<ModelSpec> {
  const row = await db.selectFrom('models').select('spec').where('name', '=', model).executeTakeFirst();
  if (!row) throw new Error(`model '${model}' does not exist`);
  return parseRecordedModelSpec(row.spec, `stored spec of model '${model}'`);
}
