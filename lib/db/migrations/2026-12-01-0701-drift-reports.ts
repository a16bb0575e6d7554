import { sql, type Kysely } from 'kysely';

/**
 * Drift monitoring: one row per monitor pass (drift_reports: the window, the champion it judged,
 * the verdict, the trigger's decision, the retraining run it started, the whole report as JSON and
 * its HTML in S3), and each test's score per feature (drift_feature_scores), the rows the metrics
 * exporter reads as gauges.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table drift_reports (
      id bigserial primary key,
      model text not null,
      -- The champion whose traffic and training data were compared; null when there was none.
      model_version_id bigint references model_versions (id),
      -- One report per monitor pass: a retried pass finds its row.
      workflow_id text not null unique,
      window_start timestamptz not null,
      window_end timestamptz not null check (window_end > window_start),
      status text not null check (status in ('ok', 'insufficient_data', 'no_champion')),
      requests integer not null check (requests >= 0),
      tested_features integer not null check (tested_features >= 0),
      drifted_features integer not null check (drifted_features >= 0 and drifted_features <= tested_features),
      estimated_accuracy double precision,
      realized_accuracy double precision,
      labelled integer not null default 0 check (labelled >= 0),
      -- Whether the drift crossed the model's trigger, and why or why not.
      trigger_crossed boolean not null,
      trigger_reason text not null,
      -- The retraining run this report started (at most one), and when; null: none.
      triggered_workflow_id text unique,
      triggered_at timestamptz,
      report jsonb not null,
      report_key text,
      report_sha256 text,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index drift_reports_model_window on drift_reports (model, window_end)`.execute(db);
  await sql`create index drift_reports_model_triggered on drift_reports (model, triggered_at) where triggered_workflow_id is not null`.execute(db);
  await sql`
    create table drift_feature_scores (
      report_id bigint not null references drift_reports (id) on delete cascade,
      -- 'requests': the prediction log's features; 'ingested': partitions ingested in the window; 'prediction' and 'label': class mixes.
      source text not null check (source in ('requests', 'ingested', 'prediction', 'label')),
      feature text not null,
      method text not null,
      score double precision,
      p_value double precision,
      threshold double precision not null,
      drifted boolean not null,
      primary key (report_id, source, feature, method)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists drift_feature_scores`.execute(db);
  await sql`drop table if exists drift_reports`.execute(db);
}
