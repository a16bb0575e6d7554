import { sql, type Kysely } from 'kysely';

/**
 * The HTML reports Retrain serves at its own stable URL (`GET /reports/<key>` on the gateway):
 * only an artifact registered here is served, with the content type and the sha256 recorded
 * here (the store verifies it on every read), never an arbitrary key of the bucket. Every report
 * writer registers its report (evaluation reports now; drift and backtest reports later, with
 * their own `kind`). Reports of evaluations recorded before this migration are registered by it,
 * so their links work too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table report_artifacts (
      key text primary key check (key ~ '^reports/[^/]+(/[^/]+)+$' and position('..' in key) = 0),
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      content_type text not null,
      model text not null references models(name),
      kind text not null check (kind in ('evaluation', 'drift', 'backtest')),
      workflow_id text,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`
    insert into report_artifacts (key, sha256, content_type, model, kind, workflow_id, created_at)
    select distinct on (e.report_key) e.report_key, e.report_sha256, 'text/html; charset=utf-8', v.model, 'evaluation', e.workflow_id, e.created_at
    from evaluations e join model_versions v on v.id = e.model_version_id
    where e.report_key is not null and e.report_sha256 is not null and e.report_key ~ '^reports/[^/]+(/[^/]+)+$' and position('..' in e.report_key) = 0
    order by e.report_key, e.id
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists report_artifacts`.execute(db);
}
