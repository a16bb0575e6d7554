import type { RetrainEnvironment } from '../../lib/config/environment';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { parsePartitionDay } from '../../lib/data/partition-day';
import { runRetrainingPipeline, startRetrainingPipeline } from '../runs/pipeline-starter';
import { connectToStack } from '../stack/stack-client';
import { renderPipelineResults } from '../runs/version-table';

/**
 * `retrain run`: starts the pipeline for one day on the running stack and, unless told not to, waits for its result.
 * `--breaking-change` lets a spec change the serving champion's features (lib/promotion/run-admission.ts).
 */
export async function runCommand(env: RetrainEnvironment, options: { specFile: string; day: string; wait: boolean; breakingChange?: boolean }): Promise<void> {
  const spec = loadModelSpec(options.specFile);
  const day = parsePartitionDay(options.day, '--day');
  const stack = await connectToStack(env);
  try {
    const input = { spec, day, taskQueue: stack.connection.taskQueue, breakingChange: options.breakingChange === true };
    if (!options.wait) {
      const handle = await startRetrainingPipeline(stack.client, input);
      process.stdout.write(`started ${handle.workflowId} (run ${handle.firstExecutionRunId})\n`);
      return;
    }
    const result = await runRetrainingPipeline(stack.client, input);
    process.stdout.write(`${renderPipelineResults([result])}\n`);
  } finally {
    await stack.close();
  }
}
