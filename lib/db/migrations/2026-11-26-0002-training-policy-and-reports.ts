import { sql, type Kysely } from 'kysely';

/** What the training policy and the evaluation report need on record. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('training_runs')
    // The day the run's window ends at: "days since the last from-scratch run" is measured in data days.
    .addColumn('window_day', 'date')
    // The champion a fine-tuning run started from.
    .addColumn('base_version_id', 'bigint', (c) => c.references('model_versions.id'))
    // Facts the policy decided on (drift scores, run counts), for audit.
    .addColumn('context', 'jsonb')
    // stdout/stderr of an external trainer.
    .addColumn('logs_key', 'text')
    .execute();
  await db.schema
    .alterTable('model_versions')
    // Hash of features, label and trainer kind: a warm start needs the same one.
    .addColumn('training_signature', 'text', (c) => c.notNull().defaultTo(''))
    // The built-in trainer's weights (JSON), the starting point of a later fine-tuning run.
    .addColumn('weights_key', 'text')
    .addColumn('weights_sha256', 'text')
    .execute();
  await db.schema
    .alterTable('evaluations')
    .addColumn('report_key', 'text')
    .addColumn('report_sha256', 'text')
    .execute();
  await sql`create index training_runs_model_id on training_runs (model, id desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists training_runs_model_id`.execute(db);
  await db.schema.alterTable('evaluations').dropColumn('report_key').dropColumn('report_sha256').execute();
  await db.schema.alterTable('model_versions').dropColumn('training_signature').dropColumn('weights_key').dropColumn('weights_sha256').execute();
  await db.schema
    .alterTable('training_runs')
    .dropColumn('window_day')
    .dropColumn('base_version_id')
    .dropColumn('context')
    .dropColumn('logs_key')
    .execute();
}
