import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { BuiltinTrainerSpec, ExternalTrainerSpec, ModelSpec } from '../spec/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { writeFeatureParquet } from '../data/feature-parquet-writer';
import { getDataset, type DatasetSnapshot } from '../db/repositories/datasets';
import { listResolvedLabels } from '../db/repositories/label-batches';
import { findVersionByTrainingRun, getModelVersion, insertModelVersion, type ModelVersion } from '../db/repositories/model-versions';
import { findTrainingRunByFingerprint, insertTrainingRun } from '../db/repositories/training-runs';
import type { Database } from '../db/schema';
import type { TrainingModeDecision } from '../policy/training-mode';
import { readServingContract } from '../scoring/version-contract';
import type { ServingContract } from '../spec/serving-contract';
import type { ArtifactRef, ArtifactStore } from '../store/artifact-store';
import { runExternalTrainer } from './external-trainer';
import { exportBuiltinModelToOnnx, parseBuiltinModel, parseTrainerCheckpoint, trainBuiltinModel, type BuiltinModel } from './trainers';
import { recordedContext, type AssessedTrainingContext } from './training-context';
import { trainingSignature } from './training-signature';

export interface CandidateTrainingDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
}

/** What a training attempt reports in its heartbeats; the next attempt resumes from `checkpoint`. */
export interface TrainingHeartbeat {
  fingerprint: string;
  phase: 'loading' | 'training' | 'exporting' | 'external';
  epoch?: number;
  epochs?: number;
  loss?: number;
  checkpoint?: Pick<ArtifactRef, 'key' | 'sha256'>;
  external?: unknown;
}

export interface CandidateTrainingInput {
  spec: ModelSpec;
  datasetIds: string[];
  /** The run's day: the end of its data window. */
  day: string;
  decision: TrainingModeDecision;
  context: AssessedTrainingContext;
  workflowId: string;
  /** Labeling batches whose resolved labels replace the natural label of their rows (models with `labels`). */
  labelBatchIds?: string[];
}

/** How labels from people entered a training run. */
export interface HumanLabelsUse {
  batches: string[];
  /** Resolved labels of those batches. */
  resolved: number;
  /** Rows of the training data that took a person's label. */
  applied: number;
  /** Of those, rows whose natural label (label.sql) said otherwise. */
  changedFromNatural: number;
  /** Resolved labels whose row was not in the training data (its snapshot is not among the run's). */
  notFound: number;
}

export interface CandidateTrainingResult {
  version: ModelVersion;
  /** True when a version trained on exactly these inputs already existed and nothing was trained. */
  reused: boolean;
  /** The epoch a resumed attempt started from (0: a fresh start). */
  resumedFromEpoch: number;
  rows: number;
  finalLoss: number | null;
  logsKey: string | null;
  /** Set when labels from people were trained on. */
  humanLabels?: HumanLabelsUse;
}

/** Bumped whenever the trainers' output for the same inputs would change. */
const TRAINER_REVISION = 'retrain-trainers/2';

/**
 * Hash of everything that determines the trained model: the snapshots' content,
 * features, label, trainer settings, and for fine-tuning the base model.
 * Same fingerprint, same model: a repeated run reuses the version.
 */
export function trainingFingerprint(spec: ModelSpec, datasets: DatasetSnapshot[], decision: TrainingModeDecision, base: ModelVersion | null, humanLabels?: HumanLabelSet): string {
  const inputs = {
    // Only when people labeled rows: fingerprints of runs without (all recorded ones) stay what they were.
    ...(humanLabels ? { humanLabels: humanLabels.hash } : {}),
    revision: TRAINER_REVISION,
    datasets: datasets.map((d) => [d.partitionDay, d.snapshotSha256]).sort(),
    features: spec.features,
    label: spec.label,
    trainer: spec.training.trainer,
    mode: decision.mode,
    base: base?.artifactSha256 ?? null,
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

/**
 * Trains a candidate (built-in or external trainer, from scratch or warm-started
 * from the base version) and registers it as a new model version with its serving
 * contract (the run's features, the exported model's inputs and classes, the decision
 * threshold: what the gateway will validate its requests against), unless a
 * version with the same fingerprint exists. A built-in run checkpoints every
 * epoch to the store and reports the checkpoint in its heartbeat; an attempt
 * given that heartbeat resumes where the crashed one stopped.
 */
export async function trainCandidate(
  deps: CandidateTrainingDeps,
  input: CandidateTrainingInput,
  hooks: { heartbeat: (details: TrainingHeartbeat) => void; lastHeartbeat?: TrainingHeartbeat; signal?: AbortSignal },
): Promise<CandidateTrainingResult> {
  const { spec, decision, workflowId } = input;
  const datasets = await Promise.all(input.datasetIds.map((id) => getDataset(deps.db, id)));
  const base = decision.baseVersionId ? await getModelVersion(deps.db, decision.baseVersionId) : null;
  const humanLabels = input.labelBatchIds ? await loadHumanLabels(deps, input.labelBatchIds) : undefined;
  const fingerprint = trainingFingerprint(spec, datasets, decision, base, humanLabels);

  const previous = await findTrainingRunByFingerprint(deps.db, spec.name, fingerprint);
  const previousVersion = previous && (await findVersionByTrainingRun(deps.db, previous.id));
  if (previous && previousVersion) {
    return { version: previousVersion, reused: true, resumedFromEpoch: 0, rows: 0, finalLoss: null, logsKey: previous.logsKey };
  }

  const dir = await mkdtemp(path.join(deps.workDir, `train-${spec.name}-`));
  try {
    hooks.heartbeat({ fingerprint, phase: 'loading' });
    const files = await Promise.all(
      datasets.map(async (d) => {
        const file = path.join(dir, `${d.partitionDay}.parquet`);
        await deps.store.downloadToFile({ key: d.snapshotKey, sha256: d.snapshotSha256 }, file);
        return file;
      }),
    );
    const started = performance.now();
    const trainer = spec.training.trainer;
    const trained =
      trainer.kind === 'builtin'
        ? await trainBuiltin(deps, { spec, trainer, files, fingerprint, decision, base, humanLabels }, hooks)
        : await trainExternal(deps, { spec, trainer, files, fingerprint, decision, base, dir, humanLabels }, hooks);
    const durationMs = performance.now() - started;

    const version = await deps.db.transaction().execute(async (trx) => {
      const { run } = await insertTrainingRun(trx, {
        model: spec.name,
        fingerprint,
        datasetIds: datasets.map((d) => d.id),
        trainer,
        mode: decision.mode,
        modeReason: decision.reason,
        metrics: trained.metrics,
        durationMs,
        windowDay: input.day,
        baseVersionId: base?.id ?? null,
        context: recordedContext(input.context),
        logsKey: trained.logsKey,
        workflowId,
      });
      return (
        (await findVersionByTrainingRun(trx, run.id)) ??
        (await insertModelVersion(trx, {
          model: spec.name,
          trainingRunId: run.id,
          artifactKey: trained.onnx.key,
          artifactSha256: trained.onnx.sha256,
          artifactSize: trained.onnx.size,
          trainingSignature: trainingSignature(spec),
          weights: trained.weights,
          contract: trained.contract,
          workflowId,
        }))
      );
    });
    return {
      version,
      reused: false,
      resumedFromEpoch: trained.resumedFromEpoch,
      rows: trained.rows,
      finalLoss: trained.finalLoss,
      logsKey: trained.logsKey,
      ...(trained.humanLabels ? { humanLabels: trained.humanLabels } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface TrainedArtifacts {
  onnx: ArtifactRef;
  /** Read from the exported model with the run's features: what the gateway will validate this version's requests against. */
  contract: ServingContract;
  weights: { key: string; sha256: string } | null;
  metrics: unknown;
  rows: number;
  finalLoss: number | null;
  resumedFromEpoch: number;
  logsKey: string | null;
  humanLabels?: HumanLabelsUse;
}

/** The resolved labels of some labeling batches, by row key, with a hash of them for the fingerprint. */
interface HumanLabelSet {
  batches: string[];
  byRowKey: Map<string, number>;
  hash: string;
}

async function loadHumanLabels(deps: CandidateTrainingDeps, batchIds: string[]): Promise<HumanLabelSet> {
  const resolved = await listResolvedLabels(deps.db, batchIds);
  const byRowKey = new Map(resolved.map((r) => [r.rowKey, r.value]));
  const canonical = [...byRowKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { batches: [...batchIds], byRowKey, hash: createHash('sha256').update(JSON.stringify(canonical)).digest('hex') };
}

/**
 * Replaces the natural label of every row that people labeled (by its row key) with their
 * resolved label; rows they did not label keep label.sql's.
 */
function applyHumanLabels(label: Uint8Array, rowKeys: readonly string[], humanLabels: HumanLabelSet): HumanLabelsUse {
  let applied = 0;
  let changedFromNatural = 0;
  const found = new Set<string>();
  for (let r = 0; r < rowKeys.length; r++) {
    const value = humanLabels.byRowKey.get(rowKeys[r]!);
    if (value === undefined) continue;
    found.add(rowKeys[r]!);
    applied++;
    if (label[r] !== value) changedFromNatural++;
    label[r] = value;
  }
  return { batches: humanLabels.batches, resolved: humanLabels.byRowKey.size, applied, changedFromNatural, notFound: humanLabels.byRowKey.size - found.size };
}

async function trainBuiltin(
  deps: CandidateTrainingDeps,
  job: { spec: ModelSpec; trainer: BuiltinTrainerSpec; files: string[]; fingerprint: string; decision: TrainingModeDecision; base: ModelVersion | null; humanLabels?: HumanLabelSet },
  hooks: { heartbeat: (details: TrainingHeartbeat) => void; lastHeartbeat?: TrainingHeartbeat; signal?: AbortSignal },
): Promise<TrainedArtifacts> {
  const { spec, trainer, fingerprint, decision, base } = job;
  const table = await loadFeatureTable(job.files, spec, { withRowKeys: job.humanLabels !== undefined });
  const humanLabels = job.humanLabels ? applyHumanLabels(table.label!, table.rowKeys!, job.humanLabels) : undefined;
  let warmStart: BuiltinModel | undefined;
  if (decision.mode === 'fine_tune') {
    if (!base?.weights) throw new Error(`cannot fine-tune: base version ${base ? `v${base.version}` : decision.baseVersionId} has no stored weights`);
    warmStart = parseBuiltinModel(JSON.parse(Buffer.from(await deps.store.getBytes(base.weights)).toString('utf8')));
  }
  // A checkpoint is only valid for the same training inputs; a heartbeat from another fingerprint is ignored.
  const last = hooks.lastHeartbeat?.fingerprint === fingerprint ? hooks.lastHeartbeat.checkpoint : undefined;
  const resumeFrom = last ? parseTrainerCheckpoint(JSON.parse(Buffer.from(await deps.store.getBytes(last)).toString('utf8'))) : undefined;
  const fineTune = decision.mode === 'fine_tune';

  const model = await trainBuiltinModel({
    table,
    features: spec.features,
    classes: 2,
    options: fineTune ? { ...trainer, learningRate: trainer.fineTuneLearningRate } : trainer,
    epochs: fineTune ? trainer.fineTuneEpochs : trainer.epochs,
    warmStart,
    resumeFrom,
    onEpoch: async (progress, checkpoint) => {
      if (hooks.signal?.aborted) throw new Error('training cancelled');
      const ref = await deps.store.putBytes(`checkpoints/${spec.name}/${fingerprint}`, Buffer.from(JSON.stringify(checkpoint())), '.json');
      hooks.heartbeat({ fingerprint, phase: 'training', ...progress, checkpoint: { key: ref.key, sha256: ref.sha256 } });
    },
  });
  hooks.heartbeat({ fingerprint, phase: 'exporting' });
  const onnxBytes = exportBuiltinModelToOnnx(model);
  const contract = await readServingContract(onnxBytes, spec.features);
  const onnx = await deps.store.putBytes(`models/${spec.name}`, onnxBytes, '.onnx');
  const weights = await deps.store.putBytes(`models/${spec.name}`, Buffer.from(JSON.stringify(model)), '.json');
  return {
    onnx,
    contract,
    weights: { key: weights.key, sha256: weights.sha256 },
    metrics: { rows: table.rows, epochs: model.training.epochs, finalLoss: model.training.finalLoss, lossHistory: model.training.lossHistory, ...(humanLabels ? { humanLabels } : {}) },
    rows: table.rows,
    finalLoss: model.training.finalLoss,
    resumedFromEpoch: resumeFrom?.epoch ?? 0,
    logsKey: null,
    ...(humanLabels ? { humanLabels } : {}),
  };
}

async function trainExternal(
  deps: CandidateTrainingDeps,
  job: { spec: ModelSpec; trainer: ExternalTrainerSpec; files: string[]; fingerprint: string; decision: TrainingModeDecision; base: ModelVersion | null; dir: string; humanLabels?: HumanLabelSet },
  hooks: { heartbeat: (details: TrainingHeartbeat) => void; signal?: AbortSignal },
): Promise<TrainedArtifacts> {
  const { spec, trainer, fingerprint, decision, base, dir } = job;
  // The spec parser refuses `labels` with an external trainer; a recorded input cannot carry both either.
  if (job.humanLabels) throw new Error(`model ${spec.name}: labels from people are not passed to external trainers yet (use a built-in trainer)`);
  const trainingData = path.join(dir, 'training-data.parquet');
  const { rowCount } = await writeFeatureParquet(job.files, spec, trainingData);
  let warmStartModel: string | null = null;
  if (decision.mode === 'fine_tune' && base) {
    warmStartModel = path.join(dir, 'warm-start.onnx');
    await deps.store.downloadToFile({ key: base.artifactKey, sha256: base.artifactSha256 }, warmStartModel);
  }
  const result = await runExternalTrainer({
    trainer,
    workDir: path.join(dir, 'external'),
    contract: {
      model: spec.name,
      mode: decision.mode,
      trainingData,
      features: spec.features,
      label: spec.label.name,
      warmStartModel,
      seed: typeof trainer.hyperparameters.seed === 'number' ? trainer.hyperparameters.seed : 42,
    },
    heartbeat: (details) => hooks.heartbeat({ fingerprint, phase: 'external', external: details }),
    signal: hooks.signal,
  });
  const logsPrefix = `logs/${spec.name}/${fingerprint}`;
  const [stdout, stderr] = await Promise.all([
    deps.store.putFile(logsPrefix, result.stdoutPath, '.stdout.log'),
    deps.store.putFile(logsPrefix, result.stderrPath, '.stderr.log'),
  ]);
  const onnxBytes = await readFile(result.onnxPath);
  // validateTrainerOutput (inside runExternalTrainer) already checked the inputs against the features.
  const contract = await readServingContract(onnxBytes, spec.features);
  const onnx = await deps.store.putBytes(`models/${spec.name}`, onnxBytes, '.onnx');
  return {
    onnx,
    contract,
    weights: null,
    metrics: { ...result.metrics, rows: rowCount, stdoutKey: stdout.key, stderrKey: stderr.key, exitCode: result.exitCode },
    rows: rowCount,
    finalLoss: null,
    resumedFromEpoch: 0,
    logsKey: stderr.key,
  };
}
