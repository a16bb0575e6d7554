import path from 'node:path';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSpec, type ModelSpec } from '../../lib/config/model-spec';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import { loadOnnxScorer } from '../../lib/ml/onnx-scorer';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineInput, type RetrainingPipelineResult } from '../../workflows/definitions';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';

const ROOT = path.join(__dirname, '..', '..');

describe('retrainingPipeline with an external (scikit-learn) trainer', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;

  const runPipeline = (input: RetrainingPipelineInput): Promise<RetrainingPipelineResult> =>
    harness.withWorkers(() =>
      harness.client.workflow.execute(RETRAINING_PIPELINE, {
        taskQueue: harness.taskQueue,
        workflowId: retrainingPipelineId(input.spec.name, input.day),
        args: [input],
      }),
    );

  beforeAll(async () => {
    harness = await createPipelineHarness('sklearn');
    const prefix = `sources/${harness.taskQueue}/flight-delay/`;
    const example = loadModelSpec(path.join(ROOT, 'examples', 'python-trainer', 'model.json'));
    spec = { ...example, name: `flight-delay-sklearn-${harness.taskQueue.slice(-6)}`, source: { kind: 's3', prefix, format: 'parquet' } };
    await prepareFlightDelayPartitions({
      from: '2001-01-02',
      to: '2001-01-10',
      target: { kind: 's3', client: harness.deps.sourceS3.client, bucket: harness.deps.sourceS3.bucket, prefix },
    });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('trains with the Python program, stores its logs, and evaluates its ONNX model on the same path as built-in models', async () => {
    const first = await runPipeline({ spec, day: '2001-01-09' });
    expect(first.training.mode).toBe('from_scratch');
    expect(first.training.logsKey).toMatch(/^logs\//);
    expect(first.decision).toBe('promote');
    expect(first.metrics.candidate.auc).toBeGreaterThan(0.6);

    const onnx = await harness.deps.store.getBytes({ key: first.version.artifactKey, sha256: first.version.artifactSha256 });
    const scorer = await loadOnnxScorer(onnx);
    expect([...scorer.inputNames].sort()).toEqual(spec.features.map((f) => f.name).sort());
    await scorer.release();
    // Logs are content-addressed like every artifact: the key's file name is the sha256 of the bytes.
    const logsKey = first.training.logsKey!;
    await expect(harness.deps.store.getBytes({ key: logsKey, sha256: path.basename(logsKey).split('.')[0]! })).resolves.toBeInstanceOf(Uint8Array);

    // The example cannot warm-start, so the next run trains from scratch again and is compared with the champion.
    const second = await runPipeline({ spec, day: '2001-01-10' });
    expect(second.training.mode).toBe('from_scratch');
    expect(second.training.reason).toMatch(/does not support warm starts/);
    expect(second.metrics.championVersion).toBe(1);
    expect(second.evaluation.deltas?.auc).toBeDefined();
    expect(await listModelVersions(harness.deps.db, spec.name)).toHaveLength(2);
  });

  it('a trainer that exits non-zero fails the run with its exit code and stderr, and registers nothing', async () => {
    const broken: ModelSpec = {
      ...spec,
      name: `${spec.name}-broken`,
      training: {
        ...spec.training,
        trainer: { kind: 'external', command: ['python3', '-c', 'import sys; print("out of cheese", file=sys.stderr); sys.exit(3)'], env: {}, hyperparameters: {}, supportsWarmStart: false, timeoutSeconds: 60 },
      },
    };
    const err = await runPipeline({ spec: broken, day: '2001-01-09' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('ExternalTrainerFailed');
    expect(cause.message).toMatch(/3/);
    expect(cause.message).toContain('out of cheese');
    expect(await listModelVersions(harness.deps.db, broken.name)).toHaveLength(0);
  });
});
