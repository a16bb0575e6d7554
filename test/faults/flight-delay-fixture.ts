import path from 'node:path';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineResult } from '../../workflows/definitions';
import { startFaultStack, type FaultStack, type RetrainProcess } from './fault-stack';

const ROOT = path.join(__dirname, '..', '..');

/** The flight-delay example on the fault stack's S3, with a short window so each run is quick. */
export async function prepareFlightDelay(stack: FaultStack, model: string, days: { from: string; to: string }, changes: Partial<ModelSpec> = {}): Promise<ModelSpec> {
  const prefix = `sources/${model}/`;
  const example = loadModelSpec(path.join(ROOT, 'examples', 'flight-delay', 'model.json'));
  await prepareFlightDelayPartitions({ ...days, target: { kind: 's3', client: stack.s3, bucket: stack.s3Config.bucket, prefix } });
  return {
    ...example,
    name: model,
    source: { kind: 's3', prefix, format: 'parquet' },
    // A short window keeps runs quick; a short heartbeat timeout makes a killed worker's training retried soon.
    training: { ...example.training, windowPartitions: 3, heartbeatTimeoutSeconds: 5 },
    // These tests are about faults, not model quality: any model better than chance is promoted.
    gates: { ...example.gates, minimums: { auc: 0.5 } },
    ...changes,
  };
}

/** A fault stack named `name` with the flight-delay example's `days` on its S3 as `model`, and a first worker (`worker-1`). */
export async function startFlightDelayFaultStack(name: string, model: string, days: { from: string; to: string }): Promise<{ stack: FaultStack; spec: ModelSpec; worker: RetrainProcess }> {
  const stack = await startFaultStack(name);
  const spec = await prepareFlightDelay(stack, model, days);
  return { stack, spec, worker: await stack.startWorker('worker-1') };
}

/** Starts `retrain/<model>/<day>` on the stack's task queue. */
export async function startRun(stack: FaultStack, spec: ModelSpec, day: string) {
  return stack.client.workflow.start(RETRAINING_PIPELINE, { taskQueue: stack.taskQueue, workflowId: retrainingPipelineId(spec.name, day), args: [{ spec, day }] });
}

export async function runToEnd(stack: FaultStack, spec: ModelSpec, day: string): Promise<RetrainingPipelineResult> {
  return (await startRun(stack, spec, day)).result() as Promise<RetrainingPipelineResult>;
}

/** The days a run for `day` ingests: its training window and the day itself. */
export function runDays(day: string, windowPartitions: number): string[] {
  const at = Date.parse(`${day}T00:00:00Z`);
  return Array.from({ length: windowPartitions + 1 }, (_, i) => new Date(at - (windowPartitions - i) * 86_400_000).toISOString().slice(0, 10));
}
