import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { RETRAINING_PIPELINE, retrainingPipelineId, searchAttributes, type RetrainingPipelineResult } from '../../workflows/definitions';
import type { retrainingPipeline } from '../../workflows/retraining-pipeline';

/**
 * Starts the retraining pipeline for one model and day with the search
 * attributes and summary that make it easy to find in the Temporal UI.
 */
export async function startRetrainingPipeline(
  client: Client,
  input: { spec: ModelSpec; day: string; taskQueue: string; breakingChange?: boolean },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof retrainingPipeline>> {
  const { spec, day, taskQueue } = input;
  return client.workflow.start<typeof retrainingPipeline>(RETRAINING_PIPELINE, {
    taskQueue,
    workflowId: retrainingPipelineId(spec.name, day),
    args: [{ spec, day, ...(input.breakingChange ? { breakingChange: true } : {}) }],
    typedSearchAttributes: [
      { key: searchAttributes.model, value: spec.name },
      { key: searchAttributes.dataWindow, value: day },
      { key: searchAttributes.stage, value: 'ingest' },
    ],
    staticSummary: `Retrain ${spec.name} for ${day}`,
    staticDetails: [
      `**Model** ${spec.name}: ${spec.description}`,
      `**Holdout day** ${day}; training window: the ${spec.training.windowPartitions} days before it`,
      `**Trainer** ${describeTrainer(spec)}; fine-tuning ${spec.training.policy.fineTune ? `on, from scratch every ${spec.training.policy.scratchEveryNthRun} runs` : 'off'}`,
      `**Gates** ${describeGates(spec)}`,
    ].join('\n\n'),
  });
}

export async function runRetrainingPipeline(client: Client, input: { spec: ModelSpec; day: string; taskQueue: string; breakingChange?: boolean }): Promise<RetrainingPipelineResult> {
  const handle = await startRetrainingPipeline(client, input);
  return handle.result();
}

function describeTrainer(spec: ModelSpec): string {
  const trainer = spec.training.trainer;
  return trainer.kind === 'builtin' ? `built-in ${trainer.algorithm}` : `external \`${trainer.command.join(' ')}\``;
}

function describeGates(spec: ModelSpec): string {
  const { minimums, maxRegression } = spec.gates;
  const floors = Object.entries(minimums).map(([metric, value]) => `${metric} >= ${value}`);
  const regressions = Object.entries(maxRegression).map(([metric, value]) => `${metric} at most ${value} worse than the champion`);
  return [...floors, ...regressions].join(', ') || 'none';
}
