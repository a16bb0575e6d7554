import { sql, type Kysely } from 'kysely';

/**
 * Notifications of promotion events (a run waiting for approval, an escalated wait, a canary
 * rolled back, a promotion, a champion rolled back), one row per event of a run and target:
 * what was sent (the payload's sha256), how many attempts it took, what the last one answered,
 * one outcome per attempt, and whether it was finally delivered or failed. The target is stored
 * as its format, origin and a hash of the URL, never the URL itself: a Slack webhook URL is a
 * credential.
 *
 * And `approvals.action = 'awaiting'`: the row a run writes when it starts waiting for a
 * decision, so that Postgres knows which runs wait (the `retrain_runs_awaiting_approval` gauge)
 * without asking Temporal.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table notifications (
      id bigserial primary key,
      workflow_id text not null,
      run_id text not null,
      -- Names the event within the run (e.g. 'awaiting-approval', 'escalated-2'): a retried activity sends nothing twice.
      event_key text not null,
      event text not null,
      model text not null,
      target text not null,
      format text not null check (format in ('json', 'slack')),
      payload_sha256 text not null check (payload_sha256 ~ '^[0-9a-f]{64}$'),
      attempts integer not null default 0 check (attempts >= 0),
      -- The HTTP status of the last attempt; null when it got no answer (refused connection, timeout).
      last_status integer,
      last_error text,
      -- One entry per attempt: { at, status, error, ms }.
      outcomes jsonb not null default '[]'::jsonb,
      state text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
      delivered_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint notifications_event_target_unique unique (workflow_id, run_id, event_key, target),
      check ((state = 'delivered') = (delivered_at is not null))
    )
  `.execute(db);
  await sql`create index notifications_model_created on notifications (model, created_at)`.execute(db);
  await sql`alter table approvals drop constraint approvals_action_check`.execute(db);
  await sql`
    alter table approvals add constraint approvals_action_check
      check (action in ('approve', 'reject', 'rollback', 'refused', 'timeout', 'escalated', 'awaiting'))
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists notifications`.execute(db);
  await sql`delete from approvals where action = 'awaiting'`.execute(db);
  await sql`alter table approvals drop constraint approvals_action_check`.execute(db);
  await sql`
    alter table approvals add constraint approvals_action_check
      check (action in ('approve', 'reject', 'rollback', 'refused', 'timeout', 'escalated'))
  `.execute(db);
}
