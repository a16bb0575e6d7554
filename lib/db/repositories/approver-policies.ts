import { APPROVER_NAME_MAX_LENGTH } from '../../policy/approver-check';
import type { DbExecutor } from '../executor';

/** Who may approve a model's promotions, as an operator configured it. */
export interface ApproverPolicy {
  model: string;
  approvers: string[];
  /** 1 for the first list, bumped by every change. */
  revision: number;
  updatedBy: string;
  reason: string;
  updatedAt: Date;
}

/** One recorded change of a policy (written by the table's trigger, whoever changed it). */
export interface ApproverPolicyChange {
  model: string;
  revision: number;
  before: string[] | null;
  after: string[];
  /** Who said they made the change (`--by`). */
  changedBy: string;
  /** The database role that made it. */
  databaseUser: string;
  reason: string;
  createdAt: Date;
}

export interface ApproverPolicyInput {
  model: string;
  approvers: readonly string[];
  changedBy: string;
  reason: string;
}

/** The model's policy; undefined when none was ever set (then nobody may approve its promotions). */
export async function getApproverPolicy(db: DbExecutor, model: string): Promise<ApproverPolicy | undefined> {
  const row = await db.selectFrom('approver_policies').selectAll().where('model', '=', model).executeTakeFirst();
  return (
    row && { model: row.model, approvers: row.approvers, revision: Number(row.revision), updatedBy: row.updated_by, reason: row.reason, updatedAt: row.updated_at }
  );
}

/**
 * Sets a model's approvers (the whole list) with who changes it and why; the change is
 * recorded in approver_policy_changes by the table's trigger. Names are trimmed; an empty or
 * duplicate name, a name longer than the longest an approval request may carry, an empty list,
 * or a missing `changedBy` or `reason` is refused naming the problem.
 */
export async function setApproverPolicy(db: DbExecutor, input: ApproverPolicyInput): Promise<ApproverPolicy> {
  const approvers = input.approvers.map((name) => name.trim());
  const problems: string[] = [];
  if (approvers.length === 0) problems.push('at least one approver is needed');
  for (const name of approvers) {
    if (name === '') problems.push('an approver name is empty');
    else if (name.length > APPROVER_NAME_MAX_LENGTH) problems.push(`approver '${name.slice(0, 20)}…' is ${name.length} characters long; at most ${APPROVER_NAME_MAX_LENGTH}`);
  }
  const duplicates = [...new Set(approvers.filter((name, i) => approvers.indexOf(name) !== i))];
  if (duplicates.length > 0) problems.push(`listed twice: ${duplicates.join(', ')}`);
  if (input.changedBy.trim() === '') problems.push('who makes the change is required (--by)');
  if (input.reason.trim() === '') problems.push('why is required (--reason)');
  if (problems.length > 0) throw new Error(`approvers of '${input.model}' not set: ${problems.join('; ')}`);

  const run = async (trx: DbExecutor): Promise<ApproverPolicy> => {
    const current = await trx.selectFrom('approver_policies').select('revision').where('model', '=', input.model).forUpdate().executeTakeFirst();
    const values = { approvers, revision: String(Number(current?.revision ?? 0) + 1), updated_by: input.changedBy.trim(), reason: input.reason.trim(), updated_at: new Date() };
    const row = current
      ? await trx.updateTable('approver_policies').set(values).where('model', '=', input.model).returningAll().executeTakeFirstOrThrow()
      : await trx.insertInto('approver_policies').values({ model: input.model, ...values }).returningAll().executeTakeFirstOrThrow();
    return { model: row.model, approvers: row.approvers, revision: Number(row.revision), updatedBy: row.updated_by, reason: row.reason, updatedAt: row.updated_at };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** A model's recorded policy changes, oldest first. */
export async function listApproverPolicyChanges(db: DbExecutor, model: string): Promise<ApproverPolicyChange[]> {
  const rows = await db.selectFrom('approver_policy_changes').selectAll().where('model', '=', model).orderBy('revision').execute();
  return rows.map((row) => ({
    model: row.model,
    revision: Number(row.revision),
    before: row.approvers_before,
    after: row.approvers_after,
    changedBy: row.changed_by,
    databaseUser: row.database_user,
    reason: row.reason,
    createdAt: row.created_at,
  }));
}
