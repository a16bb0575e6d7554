import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities, EvalActivities } from '../../activities';
import type { RetrainingPipelineInput } from '../../workflows/definitions';

const { evaluateOffline, recordPipelineStart } = proxyActivities<ControlActivities & EvalActivities>({ startToCloseTimeout: '1 minute' });

/**
 * Deliberately non-deterministic twin of retrainingPipeline (same name, first
 * command changed): replaying a recorded history against it must fail.
 */
export async function retrainingPipeline(input: RetrainingPipelineInput): Promise<void> {
  await evaluateOffline({ spec: input.spec, candidateVersionId: '0', holdoutDatasetId: '0', workflowId: workflowInfo().workflowId });
  await recordPipelineStart({ spec: input.spec, day: input.day, workflowId: workflowInfo().workflowId, runId: workflowInfo().runId });
}
