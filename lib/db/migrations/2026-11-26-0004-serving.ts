import { sql, type Kysely } from 'kysely';

/**
 * Serving: which versions each model's gateway traffic goes to (deployments, with every change
 * recorded once in deployment_changes), the online prediction log and ground-truth feedback.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('deployments')
    .addColumn('model', 'text', (c) => c.primaryKey().references('models.name'))
    .addColumn('champion_version_id', 'bigint', (c) => c.references('model_versions.id'))
    .addColumn('canary_version_id', 'bigint', (c) => c.references('model_versions.id'))
    // Share of traffic (0..1) that goes to the canary; the rest goes to the champion.
    .addColumn('canary_weight', 'double precision', (c) => c.notNull().defaultTo(0).check(sql`canary_weight >= 0 and canary_weight <= 1`))
    // Mirrored traffic only: its predictions are logged, never returned.
    .addColumn('shadow_version_id', 'bigint', (c) => c.references('model_versions.id'))
    // Bumped by every change; the gateway can tell which state it serves.
    .addColumn('revision', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('deployment_changes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('before', 'jsonb', (c) => c.notNull())
    .addColumn('after', 'jsonb', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    // Names the change (e.g. "<workflowId>/canary-5%"): applying the same key again is a no-op.
    .addColumn('change_key', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('deployment_changes_model_change_key_unique', ['model', 'change_key'])
    .execute();

  // High volume (one row per served or mirrored prediction): no foreign keys, two indexes only.
  await db.schema
    .createTable('predictions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('routing_key', 'text')
    .addColumn('model_version_id', 'bigint', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('champion','canary','shadow')`))
    .addColumn('features', 'jsonb', (c) => c.notNull())
    // Null when scoring failed (then `error` says why).
    .addColumn('probability', 'double precision')
    .addColumn('predicted_label', 'integer')
    // The model's time for the call that scored this row, in milliseconds.
    .addColumn('latency_ms', 'real', (c) => c.notNull())
    // Whether that call scored this request's rows only. False for shadow rows scored together with
    // other mirrored requests (the gateway merges them under load): their latency is the merged call's.
    .addColumn('scored_alone', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index predictions_model_version_created on predictions (model, model_version_id, created_at)`.execute(db);
  await sql`create index predictions_model_request on predictions (model, request_id)`.execute(db);

  await db.schema
    .createTable('feedback')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('label', 'integer', (c) => c.notNull().check(sql`label >= 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Ground truth for a request is recorded once.
    .addUniqueConstraint('feedback_model_request_unique', ['model', 'request_id'])
    .execute();

  // Champions promoted before this migration keep serving: each gets its deployment row.
  await sql`
    insert into deployments (model, champion_version_id, updated_by)
    select model, id, 'migration 2026-11-26-0004-serving' from model_versions where stage = 'champion'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['feedback', 'predictions', 'deployment_changes', 'deployments']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
