import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('models')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('spec', 'jsonb', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('datasets')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('partition_day', 'date', (c) => c.notNull())
    .addColumn('source_hash', 'text', (c) => c.notNull())
    .addColumn('snapshot_key', 'text', (c) => c.notNull())
    .addColumn('snapshot_sha256', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('row_count', 'bigint', (c) => c.notNull())
    .addColumn('column_stats', 'jsonb', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('datasets_model_day_source_unique', ['model', 'partition_day', 'source_hash'])
    .execute();

  await db.schema
    .createTable('training_runs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('dataset_ids', sql`bigint[]`, (c) => c.notNull())
    .addColumn('trainer', 'jsonb', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('mode_reason', 'text', (c) => c.notNull())
    .addColumn('metrics', 'jsonb', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('training_runs_model_fingerprint_unique', ['model', 'fingerprint'])
    .execute();

  await db.schema
    .createTable('model_versions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('training_run_id', 'bigint', (c) => c.notNull().unique().references('training_runs.id'))
    .addColumn('artifact_key', 'text', (c) => c.notNull())
    .addColumn('artifact_sha256', 'text', (c) => c.notNull())
    .addColumn('artifact_size', 'bigint', (c) => c.notNull())
    .addColumn('stage', 'text', (c) =>
      c.notNull().check(sql`stage in ('candidate','rejected','shadow','canary','champion','archived','rolled_back')`),
    )
    .addColumn('stage_reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('model_versions_model_version_unique', ['model', 'version'])
    .execute();
  // At most one champion per model, enforced by the database rather than by convention.
  await sql`create unique index model_versions_one_champion on model_versions (model) where stage = 'champion'`.execute(db);

  await db.schema
    .createTable('evaluations')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model_version_id', 'bigint', (c) => c.notNull().references('model_versions.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('offline','shadow','canary')`))
    .addColumn('dataset_id', 'bigint', (c) => c.notNull().references('datasets.id'))
    .addColumn('champion_version_id', 'bigint', (c) => c.references('model_versions.id'))
    .addColumn('metrics', 'jsonb', (c) => c.notNull())
    .addColumn('champion_metrics', 'jsonb')
    // The gate verdict: null until the pipeline has applied its promotion policy to these metrics.
    .addColumn('passed', 'boolean')
    .addColumn('reason', 'text')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // One evaluation per candidate, holdout and champion it was compared with (no champion counts as one value).
    .addUniqueConstraint('evaluations_comparison_unique', ['model_version_id', 'kind', 'dataset_id', 'champion_version_id'], (b) => b.nullsNotDistinct())
    .execute();

  await db.schema
    .createTable('pipeline_runs')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('window_day', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running','succeeded','failed')`))
    .addColumn('result', 'jsonb')
    .addColumn('error', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addPrimaryKeyConstraint('pipeline_runs_pk', ['workflow_id', 'run_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['pipeline_runs', 'evaluations', 'model_versions', 'training_runs', 'datasets', 'models']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
