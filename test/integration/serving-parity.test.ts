import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { quotedString } from '@duckdb/node-api';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import type { FeatureRecord } from '../../gateway/model-session';
import { createS3Client } from '../../lib/clients/s3-client';
import { queryColumns, withDuckDB } from '../../lib/data/duckdb';
import { writeFeatureParquet } from '../../lib/data/feature-parquet-writer';
import type { FeatureTable } from '../../lib/data/feature-table';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import type { DatasetSnapshot } from '../../lib/db/repositories/datasets';
import { applyDeploymentChange, getDeployment, type DeploymentTraffic } from '../../lib/db/repositories/deployments';
import { insertFeedback } from '../../lib/db/repositories/feedback';
import { type ModelVersion } from '../../lib/db/repositories/model-versions';
import { upsertModel } from '../../lib/db/repositories/models';
import { labelledOutcomes, listPredictions, pairedShadowPredictions } from '../../lib/db/repositories/predictions';
import type { Database } from '../../lib/db/schema';
import { evaluateOffline } from '../../lib/evaluation/offline-evaluation';
import { registerDatasets, snapshotPartition } from '../../lib/ingestion/partition-ingestion';
import { scoreDatasetSnapshot } from '../../lib/scoring/batch-inference';
import { openOnnxModel } from '../../lib/scoring/onnx-contract';
import { scoreVersion } from '../../lib/scoring/score-version';
import { BuiltinTrainerSpec, parseModelSpec, type ModelSpec } from '../../lib/spec/model-spec';
import { binaryLabel } from '../../lib/stats/decision-threshold';
import { accuracy } from '../../lib/stats/metrics';
import { mulberry32 } from '../../lib/stats/seeded-random';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { exportBuiltinModelToOnnx, trainBuiltinModel } from '../../lib/training/trainers';
import { registerUploadedVersion } from '../fixtures/registered-version';
import { createMigratedDatabase } from '../fixtures/test-database';

const execFileAsync = promisify(execFile);
const WORKFLOW_ID = 'serving-parity-test';
const TRAINING_DAY = '2001-01-01';
const HOLDOUT_DAY = '2001-01-02';
const HOLDOUT_ROWS = 300;
/** Every 10th holdout row has no numeric value and an unseen or missing category: both models' linear term is exactly 0 there. */
const isHalfRow = (id: number) => id % 10 === 0;

/**
 * scikit-learn on the same features (x, z numeric; c categorical): missing numbers imputed as
 * 0, one-hot categories (unknown ones all zero), a logistic regression without intercept, so
 * a row without numbers and with an unseen or missing category scores exactly σ(0) = 0.5.
 * Converted twice with skl2onnx, ZipMap off and on, one [N, 1] input per feature as train.py does.
 */
const TRAIN_SKLEARN = String.raw`
import sys
import numpy as np
import pyarrow.parquet as pq
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

table = pq.read_table(sys.argv[1])
X = np.empty((table.num_rows, 3), dtype=object)
for j, name in enumerate(["x", "z"]):
    X[:, j] = [np.nan if v is None else float(v) for v in table.column(name).to_pylist()]
X[:, 2] = ["" if v is None else str(v) for v in table.column("c").to_pylist()]
y = np.asarray(table.column("label").to_pylist(), dtype=np.int64)
pipeline = Pipeline([
    ("features", ColumnTransformer([
        ("numeric", SimpleImputer(strategy="constant", fill_value=0.0), [0, 1]),
        ("onehot_c", OneHotEncoder(handle_unknown="ignore"), [2]),
    ])),
    ("classifier", LogisticRegression(fit_intercept=False, max_iter=500)),
])
pipeline.fit(X, y)
types = [("x", FloatTensorType([None, 1])), ("z", FloatTensorType([None, 1])), ("c", StringTensorType([None, 1]))]
for zipmap, out in [(False, sys.argv[2]), (True, sys.argv[3])]:
    onx = convert_sklearn(pipeline, initial_types=types, options={id(pipeline): {"zipmap": zipmap}}, target_opset={"": 17, "ai.onnx.ml": 3})
    open(out, "wb").write(onx.SerializeToString())
`;

interface Variant {
  name: 'builtin' | 'sklearn-zipmap-off' | 'sklearn-zipmap-on';
  version: ModelVersion;
}

/** What one path gave for the holdout rows, in id order. */
interface Scored {
  probabilities: number[];
  labels: number[];
}

/**
 * The same holdout rows scored through the gateway over HTTP, batch inference and the offline
 * evaluation's scoring path give the same probabilities and labels, for a built-in model and
 * for skl2onnx models with ZipMap off and on, rows at exactly 0.5 included (label 1 everywhere).
 */
describe('serving parity: gateway, batch inference and offline evaluation', () => {
  let db: Kysely<Database>;
  let databaseUrl: string;
  let s3: S3Client;
  let store: ArtifactStore;
  let scratch: string;
  let spec: ModelSpec;
  let holdout: DatasetSnapshot;
  let holdoutFile: string;
  let holdoutTable: FeatureTable;
  let gateway: Gateway;
  let url: string;
  let changeCounter = 0;
  const variants: Variant[] = [];
  const since = new Date();
  /** variant → path → result. */
  const scored = new Map<string, Record<'http' | 'httpAlone' | 'httpConcurrent' | 'batch' | 'offline' | 'logged', Scored>>();
  const maxDifference: Record<string, number> = {};

  async function post(route: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) throw new Error(`${route} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  }

  async function deploy(set: Partial<DeploymentTraffic>): Promise<void> {
    await applyDeploymentChange(db, { model: spec.name, changeKey: `${WORKFLOW_ID}/change-${++changeCounter}`, reason: 'serving parity', workflowId: WORKFLOW_ID, set });
    const deployment = await getDeployment(db, spec.name);
    await expect
      .poll(async () => {
        const response = await fetch(`${url}/v1/models`);
        const { models } = (await response.json()) as { models: { model: string; revision: number; loaded: boolean }[] };
        return models.find((m) => m.model === spec.name)?.revision;
      }, { timeout: 10_000, interval: 20 })
      .toBe(deployment!.revision);
  }

  /** Holdout row k as a request instance: NaN and null become JSON null (a missing value). */
  function instance(k: number): FeatureRecord {
    const record: Record<string, number | string | null> = {};
    for (const f of spec.features) {
      if (f.kind === 'numeric') {
        const v = holdoutTable.numeric[f.name]![k]!;
        record[f.name] = Number.isNaN(v) ? null : v;
      } else {
        record[f.name] = holdoutTable.categorical[f.name]![k]!;
      }
    }
    return record;
  }

  beforeAll(async () => {
    const services = inject('services');
    const suffix = randomBytes(3).toString('hex');
    ({ db, url: databaseUrl } = await createMigratedDatabase(services.databaseUrl, 'retrain_serving_parity'));
    s3 = createS3Client(services.s3);
    store = new ArtifactStore({ client: s3, bucket: services.s3.bucket });
    scratch = await mkdtemp(path.join(services.workDir, `serving-parity-${suffix}-`));

    const sourceDir = path.join(scratch, 'source');
    spec = parseModelSpec({
      name: `serving-parity-${suffix}`,
      source: { kind: 'local', path: sourceDir },
      partition: { column: 'ts' },
      schema: {
        columns: [
          { name: 'ts', type: 'timestamp' },
          { name: 'id', type: 'integer' },
          { name: 'x', type: 'double', nullable: true },
          { name: 'z', type: 'double', nullable: true },
          { name: 'c', type: 'string', nullable: true },
          { name: 'y', type: 'boolean' },
        ],
      },
      features: [
        { name: 'x', kind: 'numeric' },
        { name: 'z', kind: 'numeric' },
        { name: 'c', kind: 'categorical' },
      ],
      label: { name: 'label', sql: 'y' },
      training: {},
      promotion: { strategy: 'direct' },
    });
    await upsertModel(db, spec, WORKFLOW_ID);
    await writePartition(sourceDir, TRAINING_DAY, 800, 11, false);
    await writePartition(sourceDir, HOLDOUT_DAY, HOLDOUT_ROWS, 12, true);
    const ingestion = { db, store, sourceS3: { client: s3, bucket: services.s3.bucket }, workDir: scratch };
    const snapshots = [await snapshotPartition(ingestion, { spec, day: TRAINING_DAY }), await snapshotPartition(ingestion, { spec, day: HOLDOUT_DAY })];
    const [training, registeredHoldout] = await registerDatasets(db, { model: spec.name, snapshots, workflowId: WORKFLOW_ID });
    holdout = registeredHoldout!.dataset;
    const trainingFile = path.join(scratch, 'training-snapshot.parquet');
    await store.downloadToFile({ key: training!.dataset.snapshotKey, sha256: training!.dataset.snapshotSha256 }, trainingFile);
    holdoutFile = path.join(scratch, 'holdout-snapshot.parquet');
    await store.downloadToFile({ key: holdout.snapshotKey, sha256: holdout.snapshotSha256 }, holdoutFile);
    // As the offline evaluation loads it: labelled rows in the loader's order, which is id order here (ts grows with id).
    holdoutTable = await loadFeatureTable([holdoutFile], spec);
    expect(holdoutTable.rows).toBe(HOLDOUT_ROWS);

    // The built-in logistic regression, with the bias and every category's "other" weight set to 0: a row without
    // numbers (imputed as the mean, standardized to 0) and with an unseen or missing category has logits [0, 0].
    const builtin = await trainBuiltinModel({ table: await loadFeatureTable([trainingFile], spec), features: spec.features, classes: 2, options: BuiltinTrainerSpec.parse({ kind: 'builtin' }), epochs: 3 });
    if (builtin.algorithm !== 'logistic_regression') throw new Error('expected a logistic regression');
    builtin.weights.bias = builtin.weights.bias.map(() => 0);
    builtin.preprocessing.categorical.forEach((feature, k) => {
      builtin.weights.categorical[k]![feature.categories.length] = builtin.weights.categorical[k]![feature.categories.length]!.map(() => 0);
    });
    const trainingFeatures = path.join(scratch, 'training-features.parquet');
    await writeFeatureParquet([trainingFile], spec, trainingFeatures);
    const zipmapOff = path.join(scratch, 'sklearn-zipmap-off.onnx');
    const zipmapOn = path.join(scratch, 'sklearn-zipmap-on.onnx');
    await execFileAsync('python3', ['-B', '-c', TRAIN_SKLEARN, trainingFeatures, zipmapOff, zipmapOn]);

    const artifacts: [Variant['name'], Uint8Array][] = [
      ['builtin', exportBuiltinModelToOnnx(builtin)],
      ['sklearn-zipmap-off', await readFile(zipmapOff)],
      ['sklearn-zipmap-on', await readFile(zipmapOn)],
    ];
    for (const [name, bytes] of artifacts) {
      variants.push({ name, version: await registerUploadedVersion(db, store, { spec, onnx: bytes, fingerprint: name, registeredBy: 'the serving parity test', workflowId: WORKFLOW_ID }) });
    }

    // Parity is about scores, not keys: the gateway runs open (test/integration/gateway.test.ts covers keys).
    gateway = createGateway({ db, store, databaseUrl, auth: { mode: 'open' }, log: pino({ level: 'silent' }), flushIntervalMs: 20, limits: { maxInstances: 1000 } });
    url = (await gateway.start(0)).url;
  });

  afterAll(async () => {
    await gateway?.close();
    s3?.destroy();
    await db?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('the skl2onnx models are the ZipMap cases they should be', async () => {
    for (const variant of variants) {
      const { session, contract } = await openOnnxModel(await store.getBytes({ key: variant.version.artifactKey, sha256: variant.version.artifactSha256 }));
      await session.release();
      expect(contract.unwrappedZipMap, variant.name).toBe(variant.name === 'sklearn-zipmap-on');
      expect(contract.classes).toBe(2);
    }
  });

  it.each(['builtin', 'sklearn-zipmap-off', 'sklearn-zipmap-on'] as const)('%s: every path gives the same probabilities and labels', async (name) => {
    const { version } = variants.find((v) => v.name === name)!;

    // (a) The gateway over HTTP: the rows in requests of 100 instances, each row as a request of its own sent one
    // after another (a model call of one row each), and again 16 at a time (the gateway merges some into shared calls).
    await deploy({ championVersionId: version.id });
    const http: Scored = { probabilities: [], labels: [] };
    for (let start = 0; start < HOLDOUT_ROWS; start += 100) {
      const instances = Array.from({ length: Math.min(100, HOLDOUT_ROWS - start) }, (_, i) => instance(start + i));
      const answer = await post(`/v1/models/${spec.name}/predict`, { instances, requestId: `${name}-${start}` });
      expect(answer).toMatchObject({ version: version.version, role: 'champion' });
      for (const p of answer.predictions as { probability: number; label: number }[]) {
        http.probabilities.push(p.probability);
        http.labels.push(p.label);
      }
    }
    const single = async (k: number, into: Scored, requestId: string) => {
      const answer = await post(`/v1/models/${spec.name}/predict`, { instance: instance(k), requestId });
      const [p] = answer.predictions as { probability: number; label: number }[];
      into.probabilities[k] = p!.probability;
      into.labels[k] = p!.label;
    };
    const httpAlone: Scored = { probabilities: [], labels: [] };
    for (let k = 0; k < HOLDOUT_ROWS; k++) await single(k, httpAlone, `${name}-alone-${k}`);
    const httpConcurrent: Scored = { probabilities: [], labels: [] };
    for (let start = 0; start < HOLDOUT_ROWS; start += 16) {
      await Promise.all(Array.from({ length: Math.min(16, HOLDOUT_ROWS - start) }, (_, i) => single(start + i, httpConcurrent, `${name}-concurrent-${start + i}`)));
    }

    // The gateway's log of the batched requests: probability and label as answered.
    const requestIds = http.probabilities.map((_, k) => `${name}-${Math.floor(k / 100) * 100}/${k % 100}`);
    await expect.poll(async () => (await listPredictions(db, { model: spec.name, requestIds })).length, { timeout: 10_000, interval: 50 }).toBe(HOLDOUT_ROWS);
    const byId = new Map((await listPredictions(db, { model: spec.name, requestIds })).map((row) => [row.requestId, row]));
    const logged: Scored = { probabilities: requestIds.map((id) => byId.get(id)!.probability!), labels: requestIds.map((id) => byId.get(id)!.predictedLabel!) };

    // (b) Batch inference of the registered holdout dataset.
    const batch = await scoreDatasetSnapshot({ db, store, workDir: scratch }, { modelVersionId: version.id, datasetId: holdout.id, workflowId: WORKFLOW_ID });
    const predictionsFile = path.join(scratch, `predictions-${name}.parquet`);
    await store.downloadToFile({ key: batch.outputKey, sha256: batch.outputSha256 }, predictionsFile);
    const columns = await withDuckDB((c) => queryColumns(c, `SELECT CAST(id AS INTEGER) AS id, probability, predicted_label FROM read_parquet(${quotedString(predictionsFile)}) ORDER BY id`));
    expect(columns.id).toEqual(Array.from({ length: HOLDOUT_ROWS }, (_, k) => k));
    const batchScored: Scored = { probabilities: columns.probability as number[], labels: columns.predicted_label as number[] };

    // (c) The offline evaluation's scoring path: scoreVersion on the holdout as evaluateOffline loads it.
    const offlineScores = await scoreVersion(store, version, holdoutTable);
    const offline: Scored = { probabilities: Array.from(offlineScores), labels: Array.from(offlineScores, (p) => binaryLabel(p)) };

    const paths = { http, httpAlone, httpConcurrent, batch: batchScored, offline, logged };
    scored.set(name, paths);
    let worst = 0;
    for (const [pathName, result] of Object.entries(paths)) {
      for (let k = 0; k < HOLDOUT_ROWS; k++) worst = Math.max(worst, Math.abs(result.probabilities[k]! - offline.probabilities[k]!));
      expect(result.labels, `${pathName} labels`).toEqual(offline.labels);
    }
    maxDifference[name] = worst;
    process.stderr.write(`[serving-parity] ${name}: ${HOLDOUT_ROWS} rows, max |Δp| across gateway (100 rows, alone, concurrent), log, batch, offline = ${worst}\n`);
    expect(worst).toBeLessThanOrEqual(1e-12);
    for (const [pathName, result] of Object.entries(paths)) expect(result.probabilities, pathName).toEqual(offline.probabilities);

    // Rows at exactly 0.5 are positive everywhere; the other rows are not all on one side.
    for (let k = 0; k < HOLDOUT_ROWS; k++) {
      if (!isHalfRow(k)) continue;
      for (const [pathName, result] of Object.entries(paths)) {
        expect(result.probabilities[k], `${pathName} row ${k}`).toBe(0.5);
        expect(result.labels[k], `${pathName} row ${k}`).toBe(1);
      }
    }
    expect(new Set(offline.labels.filter((_, k) => !isHalfRow(k)))).toEqual(new Set([0, 1]));

    // Accuracy: the offline evaluation's metric, the gateway's labels and the SQL the shadow and canary read
    // (labelledOutcomes, with the threshold as a parameter) count the same rows as right.
    const labels = holdoutTable.label!;
    const { summary } = await evaluateOffline({ db, store, workDir: scratch }, { spec, candidateVersionId: version.id, holdoutDatasetId: holdout.id, workflowId: `${WORKFLOW_ID}-${name}` });
    const httpAccuracy = http.labels.filter((label, k) => label === labels[k]).length / HOLDOUT_ROWS;
    expect(summary.candidate.accuracy).toBe(httpAccuracy);
    expect(summary.candidate.accuracy).toBe(accuracy(labels, offlineScores));
    for (let k = 0; k < HOLDOUT_ROWS; k++) await insertFeedback(db, { model: spec.name, requestId: requestIds[k]!, label: labels[k]! });
    const outcomes = new Map((await labelledOutcomes(db, { model: spec.name, versionId: version.id, role: 'champion', since })).map((o) => [o.requestId, o]));
    expect(requestIds.map((id) => outcomes.get(id)?.predictedLabel)).toEqual(offline.labels);
  });

  it('the shadow agreement query labels the mirrored rows as the gateway did, 0.5 included', async () => {
    const champion = variants.find((v) => v.name === 'builtin')!;
    const shadow = variants.find((v) => v.name === 'sklearn-zipmap-on')!;
    const shadowSince = new Date();
    await deploy({ championVersionId: champion.version.id, shadowVersionId: shadow.version.id });
    for (let start = 0; start < HOLDOUT_ROWS; start += 100) {
      const instances = Array.from({ length: Math.min(100, HOLDOUT_ROWS - start) }, (_, i) => instance(start + i));
      await post(`/v1/models/${spec.name}/predict`, { instances, requestId: `shadow-${start}` });
    }
    const paired = async () => pairedShadowPredictions(db, { model: spec.name, shadowVersionId: shadow.version.id, since: shadowSince });
    await expect.poll(async () => (await paired()).length, { timeout: 10_000, interval: 50 }).toBe(HOLDOUT_ROWS);
    const rows = new Map((await paired()).map((p) => [p.requestId, p]));
    const championScores = scored.get('builtin')!.offline;
    const shadowScores = scored.get('sklearn-zipmap-on')!.offline;
    for (let k = 0; k < HOLDOUT_ROWS; k++) {
      const row = rows.get(`shadow-${Math.floor(k / 100) * 100}/${k % 100}`)!;
      expect(row.championProbability, `row ${k}`).toBe(championScores.probabilities[k]);
      expect(row.shadowProbability, `row ${k}`).toBe(shadowScores.probabilities[k]);
      expect([row.championLabel, row.shadowLabel], `row ${k}`).toEqual([championScores.labels[k], shadowScores.labels[k]]);
      if (isHalfRow(k)) expect([row.championLabel, row.shadowLabel]).toEqual([1, 1]);
    }
  });

  it('scores the same with ZipMap on as off, and found no difference between paths', () => {
    expect(scored.get('sklearn-zipmap-on')!.offline).toEqual(scored.get('sklearn-zipmap-off')!.offline);
    expect(Object.keys(maxDifference).sort()).toEqual(['builtin', 'sklearn-zipmap-off', 'sklearn-zipmap-on']);
    process.stderr.write(`[serving-parity] max |Δp| per model: ${JSON.stringify(maxDifference)}\n`);
    for (const worst of Object.values(maxDifference)) expect(worst).toBeLessThanOrEqual(1e-12);
  });
});

/**
 * One day of rows under `<dir>/ts=<day>/part.parquet`: ts grows with id, x and z in [-2, 2] with 3
 * decimals, c one of four categories, y drawn from a logistic model of them. The holdout also has
 * rows with missing values, and every 10th row (isHalfRow) has no x, no z and c missing or unseen.
 */
async function writePartition(dir: string, day: string, rows: number, seed: number, holdout: boolean): Promise<void> {
  const random = mulberry32(seed);
  const number = () => Math.round((random() * 4 - 2) * 1000) / 1000;
  const values: string[] = [];
  for (let id = 0; id < rows; id++) {
    let x: number | null = number();
    let z: number | null = number();
    let c: string | null = ['a', 'b', 'c', 'd'][Math.floor(random() * 4)]!;
    const logit = 1.5 * x - 1 * z + (c === 'a' ? 1 : c === 'd' ? -1 : 0);
    const y = random() < 1 / (1 + Math.exp(-logit));
    if (holdout && isHalfRow(id)) {
      x = null;
      z = null;
      c = id % 20 === 0 ? null : 'zzz';
    } else if (holdout && id % 7 === 3) {
      x = null;
    } else if (holdout && id % 11 === 5) {
      c = id % 2 === 0 ? null : 'unseen';
    }
    const text = (v: number | string | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : quotedString(v));
    values.push(`(TIMESTAMP '${day}' + to_seconds(${id}), ${id}, ${text(x)}::DOUBLE, ${text(z)}::DOUBLE, ${text(c)}::VARCHAR, ${y})`);
  }
  const folder = path.join(dir, `ts=${day}`);
  await mkdir(folder, { recursive: true });
  await withDuckDB((c) =>
    c.run(`COPY (SELECT * FROM (VALUES ${values.join(', ')}) t(ts, id, x, z, c, y)) TO ${quotedString(path.join(folder, 'part.parquet'))} (FORMAT parquet)`).then(() => undefined),
  );
}
