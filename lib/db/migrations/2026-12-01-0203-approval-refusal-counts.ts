import { sql, type Kysely } from 'kysely';

/**
 * Refused approval requests per run and minute. Each refusal is counted here; only the first
 * few of a minute (lib/policy/approver-check.ts RECORDED_REFUSALS_PER_MINUTE) also get an
 * `approvals` row, so a flood of refused requests costs one counter update each instead of an
 * ever-growing audit table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table approval_refusal_counts (
      workflow_id text not null,
      window_start timestamptz not null,
      refusals integer not null check (refusals >= 1),
      primary key (workflow_id, window_start)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists approval_refusal_counts`.execute(db);
}
