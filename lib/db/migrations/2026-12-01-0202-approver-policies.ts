import { sql, type Kysely } from 'kysely';

/**
 * Who may approve a model's promotions, configured by an operator (`retrain approvers set`),
 * never by the spec of whoever starts a run: a spec may only narrow this list. Every change is
 * recorded in approver_policy_changes by a trigger, whoever writes the row and however (the
 * command, or SQL by hand): the list before and after, who says they made it (`--by`), the
 * database role that did (current_user), when and why. Rows are never deleted: a change is a
 * new list.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table approver_policies (
      model text primary key,
      approvers text[] not null check (cardinality(approvers) >= 1 and array_position(approvers, '') is null),
      -- Bumped by every change; each revision is recorded once in approver_policy_changes.
      revision bigint not null check (revision >= 1),
      updated_by text not null check (btrim(updated_by) <> ''),
      reason text not null check (btrim(reason) <> ''),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`
    create table approver_policy_changes (
      id bigserial primary key,
      model text not null,
      revision bigint not null,
      approvers_before text[],
      approvers_after text[] not null,
      changed_by text not null,
      database_user text not null default current_user,
      reason text not null,
      created_at timestamptz not null default now(),
      constraint approver_policy_changes_revision_unique unique (model, revision)
    )
  `.execute(db);
  await sql`
    create function record_approver_policy_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        raise exception 'approver policies are not deleted: set a new list (retrain approvers set)';
      end if;
      -- A change that keeps the revision would record nothing new: the unique key refuses it.
      insert into approver_policy_changes (model, revision, approvers_before, approvers_after, changed_by, reason)
      values (new.model, new.revision, case when tg_op = 'UPDATE' then old.approvers end, new.approvers, new.updated_by, new.reason);
      return new;
    end
    $$
  `.execute(db);
  await sql`
    create trigger approver_policies_audit after insert or update on approver_policies
    for each row execute function record_approver_policy_change()
  `.execute(db);
  await sql`
    create trigger approver_policies_no_delete before delete on approver_policies
    for each row execute function record_approver_policy_change()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists approver_policies`.execute(db);
  await sql`drop table if exists approver_policy_changes`.execute(db);
  await sql`drop function if exists record_approver_policy_change()`.execute(db);
}
