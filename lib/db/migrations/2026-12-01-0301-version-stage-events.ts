import { sql, type Kysely } from 'kysely';

/**
 * The history of every version's stage, kept: `model_versions.stage` and `stage_reason` say
 * where a version is now and are overwritten at each change, so the reason a candidate became
 * the shadow was gone once it became the canary. Each stage change (and each registration)
 * now appends a row here in the transaction that changes the stage (setVersionStage,
 * insertModelVersion). Rows are never changed, deleted or truncated: triggers refuse it.
 *
 * Versions registered before this migration get one row each: their stage and reason as they
 * stand, at their last update, marked `backfilled` (their earlier stages were not recorded).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table version_stage_events (
      id bigserial primary key,
      model_version_id bigint not null references model_versions(id),
      model text not null,
      version integer not null,
      -- Null for a version's first event (its registration, or the backfilled row).
      from_stage text,
      to_stage text not null check (to_stage in ('candidate','rejected','shadow','canary','champion','archived','rolled_back')),
      reason text not null,
      -- The run that changed the stage, when one did.
      workflow_id text,
      backfilled boolean not null default false,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index version_stage_events_model on version_stage_events (model, model_version_id, id)`.execute(db);
  await sql`
    insert into version_stage_events (model_version_id, model, version, from_stage, to_stage, reason, workflow_id, backfilled, created_at)
    select id, model, version, null, stage, stage_reason, null, true, updated_at from model_versions order by id
  `.execute(db);
  await sql`
    create function refuse_version_stage_event_change() returns trigger language plpgsql as $$
    begin
      raise exception 'version_stage_events is append-only: a stage change is a new row (setVersionStage), never an edit of an old one';
    end
    $$
  `.execute(db);
  await sql`
    create trigger version_stage_events_append_only before update or delete on version_stage_events
    for each row execute function refuse_version_stage_event_change()
  `.execute(db);
  await sql`
    create trigger version_stage_events_no_truncate before truncate on version_stage_events
    for each statement execute function refuse_version_stage_event_change()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists version_stage_events`.execute(db);
  await sql`drop function if exists refuse_version_stage_event_change()`.execute(db);
}
