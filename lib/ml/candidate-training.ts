import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../config/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import type { DatasetSnapshot } from '../db/repositories/datasets';
import { getDataset } from '../db/repositories/datasets';
import { findVersionByTrainingRun, insertModelVersion, type ModelVersion } from '../db/repositories/model-versions';
import { findTrainingRunByFingerprint, insertTrainingRun } from '../db/repositories/training-runs';
import type { Database } from '../db/schema';
import type { ArtifactStore } from '../store/artifact-store';
import { trainLogisticRegression } from './logistic-regression';
import { exportLogisticRegressionToOnnx } from './onnx-export';

export interface CandidateTrainingDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
}

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number;
}

export interface CandidateTrainingResult {
  version: ModelVersion;
  trainingMode: { mode: string; reason: string };
  /** True when a version trained on exactly these inputs already existed and nothing was trained. */
  reused: boolean;
  rows: number;
  finalLoss: number | null;
}

/** Bumped whenever the trainer's output for the same inputs would change. */
const TRAINER_REVISION = 'logistic-regression/1';

/**
 * Hash of everything that determines the trained model: the snapshots' content,
 * the features, label and trainer settings. Same fingerprint, same model.
 */
export function trainingFingerprint(spec: ModelSpec, datasets: DatasetSnapshot[]): string {
  const inputs = {
    revision: TRAINER_REVISION,
    datasets: datasets.map((d) => [d.partitionDay, d.snapshotSha256]).sort(),
    features: spec.features,
    label: spec.label,
    trainer: spec.training.trainer,
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

/**
 * Trains a candidate on the given snapshots and registers it as a new model
 * version, unless a version with the same training fingerprint exists already.
 */
export async function trainCandidate(
  deps: CandidateTrainingDeps,
  input: { spec: ModelSpec; datasetIds: string[]; workflowId: string },
  onProgress?: (progress: TrainingProgress) => void | Promise<void>,
): Promise<CandidateTrainingResult> {
  const { spec, workflowId } = input;
  const datasets = await Promise.all(input.datasetIds.map((id) => getDataset(deps.db, id)));
  const fingerprint = trainingFingerprint(spec, datasets);
  const trainingMode = { mode: 'from_scratch', reason: 'the built-in logistic regression trains from scratch on the trailing window' };

  const previous = await findTrainingRunByFingerprint(deps.db, spec.name, fingerprint);
  const previousVersion = previous && (await findVersionByTrainingRun(deps.db, previous.id));
  if (previous && previousVersion) {
    return { version: previousVersion, trainingMode: { mode: previous.mode, reason: previous.modeReason }, reused: true, rows: 0, finalLoss: null };
  }

  const dir = await mkdtemp(path.join(deps.workDir, `train-${spec.name}-`));
  try {
    const files = await Promise.all(
      datasets.map(async (d) => {
        const file = path.join(dir, `${d.partitionDay}.parquet`);
        await deps.store.downloadToFile({ key: d.snapshotKey, sha256: d.snapshotSha256 }, file);
        return file;
      }),
    );
    const table = await loadFeatureTable(files, spec);
    const started = performance.now();
    const trainer = spec.training.trainer;
    const model = await trainLogisticRegression(table, spec.features, trainer, {
      onEpoch: (progress) => onProgress?.(progress),
    });
    const durationMs = performance.now() - started;
    const onnx = exportLogisticRegressionToOnnx(model);
    const artifact = await deps.store.putBytes(`models/${spec.name}`, onnx, '.onnx');

    const version = await deps.db.transaction().execute(async (trx) => {
      const { run } = await insertTrainingRun(trx, {
        model: spec.name,
        fingerprint,
        datasetIds: datasets.map((d) => d.id),
        trainer,
        mode: trainingMode.mode,
        modeReason: trainingMode.reason,
        metrics: { rows: table.rows, finalLoss: model.training.finalLoss, epochs: model.training.epochs },
        durationMs,
        workflowId,
      });
      return (
        (await findVersionByTrainingRun(trx, run.id)) ??
        (await insertModelVersion(trx, {
          model: spec.name,
          trainingRunId: run.id,
          artifactKey: artifact.key,
          artifactSha256: artifact.sha256,
          artifactSize: artifact.size,
          workflowId,
        }))
      );
    });
    return { version, trainingMode, reused: false, rows: table.rows, finalLoss: model.training.finalLoss };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
