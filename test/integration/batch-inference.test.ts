import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { quotedString } from '@duckdb/node-api';
import { type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { ExternalTrainerSpec, type ModelSpec } from '../../lib/spec/model-spec';
import { binaryLabel } from '../../lib/stats/decision-threshold';
import { queryColumns, withDuckDB } from '../../lib/data/duckdb';
import { writeFeatureParquet } from '../../lib/data/feature-parquet-writer';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { registerDatasets, snapshotPartition } from '../../lib/ingestion/partition-ingestion';
import type { DatasetSnapshot } from '../../lib/db/repositories/datasets';
import { type ModelVersion } from '../../lib/db/repositories/model-versions';
import { upsertModel } from '../../lib/db/repositories/models';
import { listPredictionBatches } from '../../lib/db/repositories/prediction-batches';
import type { Database } from '../../lib/db/schema';
import { scoreDatasetSnapshot, type BatchInferenceDeps, type BatchInferenceResult } from '../../lib/scoring/batch-inference';
import { runExternalTrainer } from '../../lib/training/external-trainer';
import { loadOnnxScorer } from '../../lib/scoring/onnx-scorer';
import { createS3Client } from '../../lib/clients/s3-client';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { registerUploadedVersion, registerVersion } from '../fixtures/registered-version';
import { createMigratedDatabase } from '../fixtures/test-database';

const SPEC_FILE = path.join(__dirname, '..', '..', 'examples', 'python-trainer', 'model.json');
const WORKFLOW_ID = 'batch-inference-test';

/**
 * A model version that was trained by examples/python-trainer (an external trainer, so the
 * scorer path for skl2onnx models is exercised) and registered with the repositories, and a
 * held-out day ingested by the pipeline's own ingestion code.
 */
describe('scoreDatasetSnapshot', () => {
  let db: Kysely<Database>;
  let s3: S3Client;
  let deps: BatchInferenceDeps;
  let spec: ModelSpec;
  let holdout: DatasetSnapshot;
  let version: ModelVersion;
  let scratch: string;

  beforeAll(async () => {
    const services = inject('services');
    const suffix = randomBytes(3).toString('hex');
    ({ db } = await createMigratedDatabase(services.databaseUrl, 'retrain_batch_inference'));
    s3 = createS3Client(services.s3);
    scratch = await mkdtemp(path.join(services.workDir, `batch-inference-${suffix}-`));
    deps = { db, store: new ArtifactStore({ client: s3, bucket: services.s3.bucket }), workDir: scratch };

    const sourceDir = path.join(scratch, 'source');
    const example = loadModelSpec(SPEC_FILE);
    spec = { ...example, name: `flight-delay-batch-${suffix}`, source: { kind: 'local', path: sourceDir, format: 'parquet' } };
    const partitions = await prepareFlightDelayPartitions({ from: '2001-01-02', to: '2001-01-04', target: { kind: 'local', dir: sourceDir } });
    await upsertModel(db, spec, WORKFLOW_ID);
    const snapshots = await Promise.all(partitions.map((p) => snapshotPartition({ ...deps, sourceS3: { client: s3, bucket: services.s3.bucket } }, { spec, day: p.day })));
    const datasets = await registerDatasets(db, { model: spec.name, snapshots, workflowId: WORKFLOW_ID });
    holdout = datasets.at(-1)!.dataset;

    // Train on the first two days' snapshots, as the pipeline would.
    const trainingFiles = await Promise.all(
      datasets.slice(0, -1).map(async ({ dataset }) => {
        const file = path.join(scratch, `train-${dataset.partitionDay}.parquet`);
        await deps.store.downloadToFile({ key: dataset.snapshotKey, sha256: dataset.snapshotSha256 }, file);
        return file;
      }),
    );
    const trainingData = path.join(scratch, 'training.parquet');
    await writeFeatureParquet(trainingFiles, spec, trainingData);
    const trainer = ExternalTrainerSpec.parse(spec.training.trainer);
    const trained = await runExternalTrainer({
      trainer,
      workDir: path.join(scratch, 'trainer'),
      contract: { model: spec.name, mode: 'from_scratch', trainingData, features: spec.features, label: spec.label.name, warmStartModel: null, seed: 42 },
      heartbeat: () => {},
    });
    const onnx = await readFile(trained.onnxPath);
    version = await registerUploadedVersion(db, deps.store, { spec, onnx, fingerprint: `external-${suffix}`, registeredBy: 'the batch inference test', workflowId: WORKFLOW_ID });
  });

  afterAll(async () => {
    s3?.destroy();
    await db?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  let first: BatchInferenceResult;
  let predictions: Record<string, unknown[]>;
  let predictionsFile: string;

  it('writes one prediction per snapshot row, content-addressed under predictions/<model>/', async () => {
    const phases: string[] = [];
    first = await scoreDatasetSnapshot(deps, { modelVersionId: version.id, datasetId: holdout.id, workflowId: WORKFLOW_ID }, (phase) => phases.push(phase));
    expect(phases).toEqual(['downloading', 'scoring', 'writing', 'uploading']);
    expect(first).toMatchObject({ model: spec.name, modelVersion: version.version, modelVersionId: version.id, datasetId: holdout.id, rowCount: holdout.rowCount, reused: false });
    expect(first.outputKey).toBe(`predictions/${spec.name}/${first.outputSha256}.parquet`);

    predictionsFile = path.join(scratch, 'predictions.parquet');
    // Verified download: the recorded sha256 is the object's.
    await deps.store.downloadToFile({ key: first.outputKey, sha256: first.outputSha256 }, predictionsFile);
    predictions = await withDuckDB((c) =>
      queryColumns(c, `SELECT * FROM read_parquet(${quotedString(predictionsFile)}) ORDER BY date, delay, distance, origin, destination`),
    );
    expect(Object.keys(predictions)).toEqual(['date', 'delay', 'distance', 'origin', 'destination', 'delayed', 'probability', 'predicted_label', 'model_version']);
    expect(predictions.probability).toHaveLength(holdout.rowCount);
  });

  it("holds the scorer's probability for each row's own features, the label, the predicted label and the version", async () => {
    // Features recomputed from the prediction rows themselves: a row paired with another row's score would differ.
    const table = await loadFeatureTable([predictionsFile], spec, { withLabel: false });
    const scorer = await loadOnnxScorer(await deps.store.getBytes({ key: version.artifactKey, sha256: version.artifactSha256 }));
    const expected = await scorer.scorePositive(table);
    await scorer.release();
    expect(predictions.probability).toEqual(Array.from(expected));

    expect(predictions.delayed).toEqual(predictions.delay!.map((d) => (Number(d) > 15 ? 1 : 0)));
    expect(predictions.predicted_label).toEqual(predictions.probability!.map((p) => binaryLabel(p as number)));
    expect(new Set(predictions.model_version)).toEqual(new Set([version.version]));
  });

  it('keeps the snapshot rows unchanged', async () => {
    const snapshotFile = path.join(scratch, 'holdout-snapshot.parquet');
    await deps.store.downloadToFile({ key: holdout.snapshotKey, sha256: holdout.snapshotSha256 }, snapshotFile);
    const compare = (file: string) =>
      withDuckDB((c) =>
        queryColumns(c, `SELECT date::VARCHAR AS date, delay, distance, origin, destination FROM read_parquet(${quotedString(file)}) ORDER BY ALL`),
      );
    expect(await compare(predictionsFile)).toEqual(await compare(snapshotFile));
  });

  it('scoring the same snapshot with the same version again returns the recorded batch', async () => {
    const again = await scoreDatasetSnapshot(deps, { modelVersionId: version.id, datasetId: holdout.id });
    expect(again).toEqual({ ...first, reused: true });
    const batches = await listPredictionBatches(db, version.id);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ id: first.batchId, outputKey: first.outputKey, rowCount: holdout.rowCount, workflowId: WORKFLOW_ID });
  });

  it('a model version whose artifact does not match its recorded sha256 fails before anything is recorded', async () => {
    const tampered = await registerVersion(db, { spec, artifact: { artifactKey: version.artifactKey, artifactSha256: '0'.repeat(64), artifactSize: version.artifactSize }, fingerprint: 'tampered', registeredBy: 'the batch inference test', workflowId: WORKFLOW_ID });
    await expect(scoreDatasetSnapshot(deps, { modelVersionId: tampered.id, datasetId: holdout.id })).rejects.toMatchObject({ type: 'ArtifactChecksumMismatch' });
    expect(await listPredictionBatches(db, tampered.id)).toHaveLength(0);
  });
});
