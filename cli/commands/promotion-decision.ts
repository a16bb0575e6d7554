import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { parsePartitionDay } from '../../lib/data/partition-day';
import { approvePromotionUpdate, rejectPromotionUpdate, retrainingPipelineId, rollbackUpdate } from '../../workflows/definitions';
import { connectToStack } from '../stack/stack-client';

export type PromotionDecisionCommand = 'approve' | 'reject' | 'rollback';

/** Which run a decision is for: by its day (`retrain/<model>/<day>`) or by its workflow id, as `retrain pending` lists it. */
export type RunSelector = { model: string; day?: string; workflowId?: string };

/**
 * `retrain approve|reject|rollback`: the same Updates the Temporal UI sends.
 * approve/reject go to the pipeline waiting for approval; rollback goes to its
 * running canary. A refusal (unknown approver, nothing waiting) is printed as is.
 */
export async function promotionDecisionCommand(
  env: RetrainEnvironment,
  command: PromotionDecisionCommand,
  options: RunSelector & { approver: string; reason?: string },
): Promise<void> {
  const pipelineId = selectedPipelineId(options);
  const stack = await connectToStack(env);
  try {
    const workflowId = command === 'rollback' && !pipelineId.endsWith('/canary') ? `${pipelineId}/canary` : pipelineId;
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

/** The pipeline's workflow id from exactly one of --day and --workflow-id. */
export function selectedPipelineId(options: RunSelector): string {
  if (options.day !== undefined && options.workflowId !== undefined) throw new Error('give --day or --workflow-id, not both');
  if (options.workflowId !== undefined) {
    if (options.workflowId.trim() === '') throw new Error('--workflow-id is empty: give the id `retrain pending` lists, e.g. retrain/flight-delay/2001-01-10');
    return options.workflowId.trim();
  }
  if (options.day === undefined) throw new Error("name the run: --day <YYYY-MM-DD> (its workflow id is retrain/<model>/<day>) or --workflow-id <id> (as `retrain pending` lists it)");
  return retrainingPipelineId(options.model, parsePartitionDay(options.day, '--day'));
}
