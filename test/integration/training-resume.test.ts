import type { ChildProcess } from 'node:child_process';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import { listTrainingRuns } from '../../lib/db/repositories/training-runs';
import type { TrainingHeartbeat } from '../../lib/training/candidate-training';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineResult } from '../../workflows/definitions';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { createPipelineHarness, killWorkerProcess, type PipelineHarness } from './pipeline-harness';


describe('training survives a worker crash', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    harness = await createPipelineHarness('resume');
    const example = await flightDelayOnHarness(harness, { name: 'flight-delay-resume', days: { from: '2001-01-02', to: '2001-01-09' } });
    const trainer = example.training.trainer;
    if (trainer.kind !== 'builtin') throw new Error('the example must use the built-in trainer');
    spec = {
      ...example,
      // An MLP with enough epochs to be killed mid-way; a short heartbeat timeout so the retry comes quickly.
      training: { ...example.training, windowPartitions: 7, heartbeatTimeoutSeconds: 4, trainer: { ...trainer, algorithm: 'mlp', hiddenUnits: 32, epochs: 30 } },
    };
  });

  afterAll(async () => {
    workers.forEach(killWorkerProcess);
    await harness?.close();
  });

  it('resumes from the last checkpoint after the worker is killed, and registers exactly one version', async () => {
    workers.push(harness.startWorkerProcess('worker-1'));
    const handle = await harness.client.workflow.start(RETRAINING_PIPELINE, {
      taskQueue: harness.taskQueue,
      workflowId: retrainingPipelineId(spec.name, '2001-01-09'),
      args: [{ spec, day: '2001-01-09' }],
    });

    // Wait until training has checkpointed a few epochs, then kill the worker's whole process group.
    let killedAfterEpoch = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const { raw } = await handle.describe();
      const training = raw.pendingActivities?.find((a) => a.activityType?.name === 'trainModel');
      const payload = training?.heartbeatDetails?.payloads?.[0];
      const details = payload ? defaultPayloadConverter.fromPayload<TrainingHeartbeat>(payload) : undefined;
      if (details?.checkpoint && (details.epoch ?? 0) >= 3) {
        killedAfterEpoch = details.epoch!;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(killedAfterEpoch).toBeGreaterThanOrEqual(3);
    process.stderr.write(`[resume] killing worker-1 after epoch ${killedAfterEpoch} of 30\n`);
    killWorkerProcess(workers[0]!);

    workers.push(harness.startWorkerProcess('worker-2'));
    const result = (await handle.result()) as RetrainingPipelineResult;

    process.stderr.write(`[resume] the retried attempt resumed from epoch ${result.training.resumedFromEpoch}\n`);
    // The second attempt started from a checkpoint at or after the epoch seen before the kill, not from epoch 0.
    expect(result.training.resumedFromEpoch).toBeGreaterThanOrEqual(killedAfterEpoch);
    expect(result.training.resumedFromEpoch).toBeLessThan(30);
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(Math.max(...attempts.map(Number))).toBeGreaterThanOrEqual(2);

    expect(await listModelVersions(harness.deps.db, spec.name)).toHaveLength(1);
    expect(await listTrainingRuns(harness.deps.db, spec.name)).toHaveLength(1);
    expect(result.decision).not.toBe('unchanged');
  });
});
