import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import { loadOnnxScorer } from '../../lib/scoring/onnx-scorer';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineInput, type RetrainingPipelineResult } from '../../workflows/definitions';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';


describe('retrainingPipeline with an external (scikit-learn) trainer', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;

  const runPipeline = (input: RetrainingPipelineInput): Promise<RetrainingPipelineResult> => harness.runPipeline(input);

  beforeAll(async () => {
    harness = await createPipelineHarness('sklearn');
    spec = await flightDelayOnHarness(harness, { name: 'flight-delay-sklearn', example: 'python-trainer', days: { from: '2001-01-02', to: '2001-01-10' } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]?.startsWith('Z');
    } catch {
      return false;
    }
  };

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

  it('cancelling the workflow kills the trainer and every process it started', async () => {
    const pidFile = path.join(harness.deps.workDir, `trainer-pids-${Date.now()}`);
    const program = [
      'import os, subprocess, time',
      "child = subprocess.Popen(['sleep', '300'])",
      `open(${JSON.stringify(pidFile)}, 'w').write(f"{os.getpid()} {child.pid}")`,
      'time.sleep(300)',
    ].join('\n');
    const slow: ModelSpec = {
      ...spec,
      name: `${spec.name}-slow`,
      training: { ...spec.training, trainer: { kind: 'external', command: ['python3', '-c', program], env: {}, hyperparameters: {}, supportsWarmStart: false, timeoutSeconds: 600 } },
    };
    const outcome = await harness.withWorkers(async () => {
      const handle = await harness.client.workflow.start(RETRAINING_PIPELINE, {
        taskQueue: harness.taskQueue,
        workflowId: retrainingPipelineId(slow.name, '2001-01-09'),
        args: [{ spec: slow, day: '2001-01-09' }],
      });
      const deadline = Date.now() + 60_000;
      while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const pids = readFileSync(pidFile, 'utf8').split(' ').map(Number);
      expect(pids.every(alive)).toBe(true);
      await handle.cancel();
      const error = await handle.result().catch((e: unknown) => e);
      return { pids, error };
    });
    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
    expect((outcome.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    // The activity learns of the cancellation at its next heartbeat, then stops the whole process group.
    const deadline = Date.now() + 30_000;
    while (outcome.pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(outcome.pids.filter(alive)).toEqual([]);
    expect(await listModelVersions(harness.deps.db, slow.name)).toHaveLength(0);
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
