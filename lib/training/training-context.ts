import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../spec/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { daysBetween } from '../data/partition-day';
import { getDataset, type DatasetSnapshot } from '../db/repositories/datasets';
import { findChampion } from '../db/repositories/model-versions';
import { getTrainingRun, listTrainingRuns } from '../db/repositories/training-runs';
import { listVersionTrainingDays } from '../db/repositories/version-lineage';
import type { Database } from '../db/schema';
import type { TrainingContext, TrainingModeDecision } from '../policy/training-mode';
import { featureDrift, type DriftReport } from '../stats/feature-drift';
import type { ArtifactStore } from '../store/artifact-store';
import { trainingSignature } from './training-signature';

export interface TrainingContextDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
}

/** The policy's inputs plus the full drift report, which is stored with the training run. */
export interface AssessedTrainingContext extends TrainingContext {
  drift: DriftReport | null;
  /** Hash of the trainer settings (canonical JSON), to recognise a repeat of the same run. */
  trainerHash: string;
}

async function loadTables(deps: TrainingContextDeps, dir: string, datasets: DatasetSnapshot[], spec: ModelSpec) {
  const files = await Promise.all(
    datasets.map(async (d) => {
      const file = path.join(dir, `${d.id}.parquet`);
      await deps.store.downloadToFile({ key: d.snapshotKey, sha256: d.snapshotSha256 }, file);
      return file;
    }),
  );
  return loadFeatureTable(files, spec, { withLabel: false });
}

/**
 * Gathers what the training policy decides on: the champion and whether its
 * weights fit this spec, how many runs and days since the last from-scratch
 * run, and each feature's drift between the champion's training data and the
 * new window.
 */
export async function assessTrainingContext(
  deps: TrainingContextDeps,
  input: { spec: ModelSpec; datasetIds: string[]; day: string },
): Promise<AssessedTrainingContext> {
  const { spec } = input;
  const signature = trainingSignature(spec);
  const champion = await findChampion(deps.db, spec.name);
  const runs = await listTrainingRuns(deps.db, spec.name);
  const trainerHash = trainerSettingsHash(spec);
  const sameData = runs.find((r) => sameIds(r.datasetIds, input.datasetIds) && (r.context as RecordedContext | null)?.trainerHash === trainerHash);
  if (sameData) {
    const decision: TrainingModeDecision = { mode: sameData.mode as TrainingModeDecision['mode'], reason: sameData.modeReason, baseVersionId: sameData.baseVersionId };
    return { ...(sameData.context as RecordedContext).policyInputs, previousDecision: decision, drift: (sameData.context as RecordedContext).drift, trainerHash };
  }
  const lastScratch = runs.findIndex((r) => r.mode === 'from_scratch');
  const lastScratchDay = lastScratch >= 0 ? runs[lastScratch]!.windowDay : null;

  let drift: DriftReport | null = null;
  if (champion) {
    const championRun = await getTrainingRun(deps.db, champion.trainingRunId);
    const dir = await mkdtemp(path.join(deps.workDir, `drift-${spec.name}-`));
    try {
      const reference = await loadTables(deps, dir, await Promise.all(championRun.datasetIds.map((id) => getDataset(deps.db, id))), spec);
      const current = await loadTables(deps, dir, await Promise.all(input.datasetIds.map((id) => getDataset(deps.db, id))), spec);
      drift = featureDrift(reference, current, spec.features, spec.training.policy.maxFeatureDrift);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    champion: champion
      ? {
          versionId: champion.id,
          version: champion.version,
          trainingSignature: champion.trainingSignature,
          sawHoldout: (await listVersionTrainingDays(deps.db, spec.name)).some((v) => v.versionId === champion.id && v.trainedOnDays.includes(input.day)),
        }
      : null,
    trainingSignature: signature,
    runsSinceScratch: lastScratch >= 0 ? lastScratch : null,
    daysSinceScratch: lastScratchDay ? daysBetween(lastScratchDay, input.day) : null,
    worstDrift: drift?.worst ? { feature: drift.worst.feature, score: drift.worst.score } : null,
    previousDecision: null,
    drift,
    trainerHash,
  };
}

/** What a training run records in its `context` column. */
export interface RecordedContext {
  trainerHash: string;
  policyInputs: Omit<TrainingContext, 'previousDecision'>;
  drift: DriftReport | null;
}

/** The context to store with the training run, so a repeated run finds (and repeats) this decision. */
export function recordedContext(context: AssessedTrainingContext): RecordedContext {
  const { drift, trainerHash, previousDecision: _previous, ...policyInputs } = context;
  return { trainerHash, policyInputs, drift };
}

function trainerSettingsHash(spec: ModelSpec): string {
  return createHash('sha256').update(canonicalJson(spec.training.trainer)).digest('hex');
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((id, i) => id === [...b].sort()[i]);
}
