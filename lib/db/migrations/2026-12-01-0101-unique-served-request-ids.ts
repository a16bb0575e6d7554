import { sql, type Kysely } from 'kysely';

/**
 * A request id is served once per model: at most one successful champion or canary row per
 * (model, request_id). The gateway refuses a repeated id with a 409 while it remembers the id;
 * this index is what holds the rule beyond its memory (a restart, another replica): the
 * prediction log's COPY of a repeated id fails on it, and that one row is dropped, the first
 * one staying. Feedback joins predictions by request id, so one id with several served rows
 * counted each label several times. Shadow rows (same id, role 'shadow') and failed rows (a
 * canary that failed before the champion answered, or a 500) are outside the rule.
 *
 * Rows logged before this migration may repeat ids: all but the first served row of each
 * (model, request_id) are marked failed (`error` says why, the values stay) rather than
 * deleted, so they leave the served counts and the label joins and remain for inspection.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update predictions p set error = 'request id served earlier (marked by migration 2026-12-01-0101-unique-served-request-ids)'
    where p.role <> 'shadow' and p.error is null and exists (
      select 1 from predictions q
      where q.model = p.model and q.request_id = p.request_id and q.role <> 'shadow' and q.error is null and q.id < p.id)
  `.execute(db);
  await sql`create unique index predictions_served_request_unique on predictions (model, request_id) where role <> 'shadow' and error is null`.execute(db);
}

/** Drops the index; rows marked by `up` stay marked. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists predictions_served_request_unique`.execute(db);
}
