import { WorkflowFailedError } from '@temporalio/client';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { ROLLBACK_CHAMPION, rollbackChampionId, type RollbackChampionInput, type RollbackChampionResult } from '../../workflows/rollback-definitions';
import { connectToStack } from '../stack/stack-client';

/**
 * `retrain rollback --model M [--to-version N] --approver NAME --reason R` (no --day): rolls the
 * champion back after its promotion, by running the rollbackChampion workflow on the stack's
 * control queue and waiting for its result, the same workflow the Temporal UI's Start Workflow
 * runs. Prints what changed, or that nothing had to; a refusal (not an approver, nothing to
 * restore, a canary running) exits 1 with its reason.
 */
export async function championRollbackCommand(env: RetrainEnvironment, options: { model: string; toVersion?: number; approver: string; reason: string }): Promise<void> {
  const stack = await connectToStack(env);
  try {
    const input: RollbackChampionInput = {
      model: options.model,
      ...(options.toVersion === undefined ? {} : { toVersion: options.toVersion }),
      approver: options.approver,
      reason: options.reason,
    };
    const workflowId = rollbackChampionId(options.model, new Date());
    let result: RollbackChampionResult;
    try {
      result = await stack.client.workflow.execute(ROLLBACK_CHAMPION, { taskQueue: stack.connection.taskQueue, workflowId, args: [input] });
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new Error(`rollback refused (${workflowId}): ${innermostMessage(err)}`, { cause: err });
      throw err;
    }
    process.stdout.write(`${result.message} (${workflowId})\n`);
  } finally {
    await stack.close();
  }
}

function innermostMessage(err: Error): string {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e.message;
}
