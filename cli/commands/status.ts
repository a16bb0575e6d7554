import type { RetrainEnvironment } from '../../lib/config/environment';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import { connectToStack } from '../stack-client';
import { renderTable } from '../version-table';

/** `retrain status`: a model's versions with their stage, the reason for it, and the run that made them. */
export async function statusCommand(env: RetrainEnvironment, options: { model: string }): Promise<void> {
  const stack = await connectToStack(env);
  try {
    const versions = await listModelVersions(stack.db, options.model);
    if (versions.length === 0) {
      process.stdout.write(`no versions of model '${options.model}' yet\n`);
      return;
    }
    process.stdout.write(
      `${renderTable(
        ['version', 'stage', 'created', 'workflow', 'reason'],
        versions.map((v) => [`v${v.version}`, v.stage, v.createdAt.toISOString(), v.workflowId, v.stageReason]),
      )}\n`,
    );
  } finally {
    await stack.close();
  }
}
