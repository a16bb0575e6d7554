import type { RetrainEnvironment } from '../../lib/config/environment';
import { formatWait, listPendingRuns } from '../runs/pending-runs';
import { renderTable } from '../runs/version-table';
import { connectToStack } from '../stack/stack-client';

/**
 * `retrain pending [--model M] [--json]`: every run waiting for a person to approve or reject,
 * with its model, day, candidate, how long it has waited and who may decide, oldest first; each
 * is decided with `retrain approve|reject --workflow-id <id>`, or in the UI at its link (--json).
 */
export async function pendingCommand(env: RetrainEnvironment, options: { model?: string; json?: boolean }): Promise<void> {
  const stack = await connectToStack(env);
  try {
    const runs = await listPendingRuns(stack.client, stack.db, {
      namespace: stack.connection.temporal.namespace,
      uiUrl: stack.connection.temporal.uiUrl || null,
      ...(options.model === undefined ? {} : { model: options.model }),
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return;
    }
    if (runs.length === 0) {
      process.stdout.write(`no run is waiting for approval${options.model ? ` of ${options.model}` : ''}\n`);
      return;
    }
    process.stdout.write(
      `${renderTable(
        ['workflow', 'model', 'day', 'candidate', 'waiting', 'who may approve'],
        runs.map((r) => [r.workflowId, r.model, r.day, r.candidateVersion === null ? '?' : `v${r.candidateVersion}`, formatWait(r.waitedSeconds), r.approvers.join(', ') || 'nobody (retrain approvers set)']),
      )}\n\ndecide with: retrain approve|reject --workflow-id <workflow> --approver <name> [--reason <why>]\n`,
    );
  } finally {
    await stack.close();
  }
}
