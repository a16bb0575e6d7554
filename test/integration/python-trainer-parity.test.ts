import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { ExternalTrainerSpec, type ModelSpec } from '../../lib/spec/model-spec';
import { writeFeatureParquet } from '../../lib/data/feature-parquet-writer';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { runExternalTrainer, type ExternalTrainerHeartbeat, type ExternalTrainerResult } from '../../lib/training/external-trainer';
import { rocAuc } from '../../lib/stats/metrics';
import { loadOnnxScorer } from '../../lib/scoring/onnx-scorer';

const execFileAsync = promisify(execFile);
const EXAMPLE_DIR = path.join(__dirname, '..', '..', 'examples', 'python-trainer');

/**
 * Loads the pickled sklearn pipeline train.py fitted and writes predict_proba[:, 1] for the
 * rows of a feature Parquet file as little-endian float64, using train.py's own feature_matrix.
 */
const PREDICT_PROBA = `
import pickle, sys
import numpy as np
import pyarrow.parquet as pq
sys.path.insert(0, sys.argv[1])
from train import feature_matrix
import json
contract = json.load(open(sys.argv[2]))
with open(sys.argv[3], 'rb') as f:
    pipeline = pickle.load(f)
X = feature_matrix(pq.read_table(sys.argv[4]), contract['features'])
pipeline.predict_proba(X)[:, 1].astype('<f8').tofile(sys.argv[5])
`;

// The acceptance check of issue 3: onnxruntime-node's probabilities for the sklearn model match predict_proba.
describe('examples/python-trainer under the external trainer contract', () => {
  let dir: string;
  let spec: ModelSpec;
  let trainingRows: number;
  let holdoutFile: string;
  let result: ExternalTrainerResult;
  const heartbeats: ExternalTrainerHeartbeat[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-python-parity-'));
    spec = loadModelSpec(path.join(EXAMPLE_DIR, 'model.json'));
    const partitions = await prepareFlightDelayPartitions({ from: '2001-01-02', to: '2001-01-05', target: { kind: 'local', dir: path.join(dir, 'source') } });
    holdoutFile = partitions.at(-1)!.key;
    const trainingData = path.join(dir, 'training.parquet');
    ({ rowCount: trainingRows } = await writeFeatureParquet(partitions.slice(0, -1).map((p) => p.key), spec, trainingData));

    const trainer = ExternalTrainerSpec.parse(spec.training.trainer);
    result = await runExternalTrainer({
      trainer: { ...trainer, env: { ...trainer.env, RETRAIN_SAVE_PICKLE: '1' } },
      workDir: path.join(dir, 'run'),
      contract: { model: spec.name, mode: 'from_scratch', trainingData, features: spec.features, label: spec.label.name, warmStartModel: null, seed: 42 },
      heartbeat: (details) => heartbeats.push(details),
      heartbeatIntervalMs: 1000,
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('trains, heartbeats and reports the metrics train.py wrote', () => {
    expect(result.exitCode).toBe(0);
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(result.metrics).toMatchObject({ trainingRows, algorithm: 'logistic_regression', sklearnVersion: expect.any(String) });
    expect(result.metrics.trainingAuc).toBeGreaterThan(0.6);
  });

  it("scores the held-out day through the evaluation's scorer, matching sklearn's predict_proba to 1e-5", async () => {
    const table = await loadFeatureTable([holdoutFile], spec);
    const scorer = await loadOnnxScorer(await readFile(result.onnxPath));
    const onnxScores = await scorer.scorePositive(table);
    await scorer.release();

    // The same rows for sklearn: the feature Parquet writer runs loadFeatureTable's query, in its order.
    const holdoutFeatures = path.join(dir, 'holdout-features.parquet');
    const { rowCount } = await writeFeatureParquet([holdoutFile], spec, holdoutFeatures);
    expect(rowCount).toBe(table.rows);
    const out = path.join(dir, 'sklearn-scores.f64');
    // -B: importing train.py must not leave __pycache__ in examples/.
    await execFileAsync('python3', ['-B', '-c', PREDICT_PROBA, EXAMPLE_DIR, result.contractPath, path.join(path.dirname(result.onnxPath), 'model.pkl'), holdoutFeatures, out]);
    const bytes = await readFile(out);
    const sklearnScores = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);

    expect(sklearnScores.length).toBe(table.rows);
    let maxDifference = 0;
    for (let i = 0; i < table.rows; i++) maxDifference = Math.max(maxDifference, Math.abs(onnxScores[i]! - sklearnScores[i]!));
    process.stderr.write(`[parity] ${table.rows} held-out rows, max |onnxruntime - sklearn| = ${maxDifference.toExponential(3)}\n`);
    expect(maxDifference).toBeLessThanOrEqual(1e-5);
    expect(rocAuc(table.label!, onnxScores)).toBeGreaterThan(0.6);
  });
});
