import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { ModelSpec } from '../lib/config/model-spec';
import { RETRAINING_PIPELINE, retrainingPipelineId, searchAttributes, type RetrainingPipelineResult } from '../workflows/definitions';
import type { retrainingPipeline } from '../workflows/retraining-pipeline';

/**
 * Starts the retraining pipeline for one model and day with the search
 * attributes and summary that make it easy to find in the Temporal UI.
 */
export async function startRetrainingPipeline(
  client: Client,
  input: { spec: ModelSpec; day: string; taskQueue: string },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof retrainingPipeline>> {
  const { spec, day, taskQueue } = input;
  return client.workflow.start<typeof retrainingPipeline>(RETRAINING_PIPELINE, {
    taskQueue,
    workflowId: retrainingPipelineId(spec.name, day),
    args: [{ spec, day }],
    typedSearchAttributes: [
      { key: searchAttributes.model, value: spec.name },
      { key: searchAttributes.dataWindow, value: day },
      { key: searchAttributes.stage, value: 'ingest' },
    ],
    staticSummary: `Retrain ${spec.name} for ${day}`,
    staticDetails: [
      `**Model** ${spec.name}: ${spec.description}`,
      `**Holdout day** ${day}; training window: the ${spec.training.windowPartitions} days before it`,
      `**Trainer** ${spec.training.trainer.algorithm}; gates: AUC >= ${spec.gates.minAuc}, at most ${spec.gates.maxAucRegression} below the champion`,
    ].join('\n\n'),
  });
}

export async function runRetrainingPipeline(client: Client, input: { spec: ModelSpec; day: string; taskQueue: string }): Promise<RetrainingPipelineResult> {
  const handle = await startRetrainingPipeline(client, input);
  return handle.result();
}
