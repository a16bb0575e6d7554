import { sql, type Kysely } from 'kysely';

/** Batch inference: which model version scored which dataset snapshot, and where the predictions are. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('prediction_batches')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model_version_id', 'bigint', (c) => c.notNull().references('model_versions.id'))
    .addColumn('dataset_id', 'bigint', (c) => c.notNull().references('datasets.id'))
    // Content-addressed Parquet in the artifact store (predictions/<model>/<sha256>.parquet).
    .addColumn('output_key', 'text', (c) => c.notNull())
    .addColumn('output_sha256', 'text', (c) => c.notNull())
    .addColumn('row_count', 'bigint', (c) => c.notNull())
    // Null when run outside a workflow (the CLI).
    .addColumn('workflow_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A version's predictions for a snapshot never change: scoring it again returns this row.
    .addUniqueConstraint('prediction_batches_version_dataset_unique', ['model_version_id', 'dataset_id'])
    .execute();
  await sql`create index prediction_batches_dataset on prediction_batches (dataset_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('prediction_batches').ifExists().execute();
}
