import type { RetrainEnvironment } from '../../lib/config/environment';
import { createDatabase } from '../../lib/db/connection';
import { migrateToLatest } from '../../lib/db/migrate';
import { getApproverPolicy, listApproverPolicyChanges, setApproverPolicy } from '../../lib/db/repositories/approver-policies';
import { resolveStackConnection } from '../stack/stack-client';
import { renderTable } from '../runs/version-table';

/**
 * `retrain approvers set|show`: who may approve a model's promotions. This list, not the run's
 * spec, is what the approval Updates are checked against (a spec may only narrow it); every
 * change is recorded with who (`--by`, and the database role), when and why. Needs only the
 * database (DATABASE_URL, or the running stack's).
 */
export async function approversCommand(
  env: RetrainEnvironment,
  command: { action: 'set'; model: string; approvers: string[]; by: string; reason: string } | { action: 'show'; model: string },
): Promise<void> {
  const connection = await resolveStackConnection(env);
  const db = createDatabase(connection.databaseUrl, { poolSize: 1, applicationName: 'retrain-cli' });
  try {
    await migrateToLatest(db);
    if (command.action === 'set') {
      const policy = await setApproverPolicy(db, { model: command.model, approvers: command.approvers, changedBy: command.by, reason: command.reason });
      process.stdout.write(`approvers of ${policy.model}: ${policy.approvers.join(', ')} (revision ${policy.revision}, set by ${policy.updatedBy}: ${policy.reason})\n`);
      return;
    }
    const policy = await getApproverPolicy(db, command.model);
    if (!policy) {
      process.stdout.write(`no approvers are configured for ${command.model}: nobody can approve its promotions (retrain approvers set --model ${command.model} <names> --by <you> --reason <why>)\n`);
      return;
    }
    process.stdout.write(`approvers of ${policy.model}: ${policy.approvers.join(', ')} (revision ${policy.revision})\n\nchanges:\n`);
    const changes = await listApproverPolicyChanges(db, command.model);
    process.stdout.write(
      `${renderTable(
        ['revision', 'at', 'by', 'database user', 'approvers', 'reason'],
        changes.map((c) => [String(c.revision), c.createdAt.toISOString(), c.changedBy, c.databaseUser, c.after.join(', '), c.reason]),
      )}\n`,
    );
  } finally {
    await db.destroy();
  }
}
