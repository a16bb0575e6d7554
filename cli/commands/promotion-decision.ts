import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { parsePartitionDay } from '../../lib/data/partition-day';
import { approvePromotionUpdate, rejectPromotionUpdate, retrainingPipelineId, rollbackUpdate } from '../../workflows/definitions';
import { connectToStack } from '../stack/stack-client';

export type PromotionDecisionCommand = 'approve' | 'reject' | 'rollback';

/**
 * `retrain approve|reject|rollback`: the same Updates the Temporal UI sends.
 * approve/reject go to the pipeline waiting for approval; rollback goes to its
 * running canary. A refusal (unknown approver, nothing waiting) is printed as is.
 */
export async function promotionDecisionCommand(
  env: RetrainEnvironment,
  command: PromotionDecisionCommand,
  options: { model: string; day: string; approver: string; reason?: string },
): Promise<void> {
  const day = parsePartitionDay(options.day, '--day');
  const stack = await connectToStack(env);
  try {
    const pipelineId = retrainingPipelineId(options.model, day);
    const workflowId = command === 'rollback' ? `${pipelineId}/canary` : pipelineId;
    const update = command === 'approve' ? approvePromotionUpdate : command === 'reject' ? rejectPromotionUpdate : rollbackUpdate;
    const handle = stack.client.workflow.getHandle(workflowId);
    try {
      const result = await handle.executeUpdate(update, { args: [{ approver: options.approver, reason: options.reason }] });
      process.stdout.write(`${result.action} accepted from ${result.approver} by ${workflowId}\n`);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw new Error(`${command} refused by ${workflowId}: ${err.cause?.message ?? err.message}`, { cause: err });
      }
      throw err;
    }
  } finally {
    await stack.close();
  }
}
