import { sql, type Kysely } from 'kysely';

/** Every promotion decision and refused request: who, when, why. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('approvals')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    // Names the event within the run (e.g. the Update id): recording it twice is a no-op.
    .addColumn('event_key', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('model_version_id', 'bigint', (c) => c.notNull().references('model_versions.id'))
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('approve','reject','rollback','refused','timeout','escalated')`))
    .addColumn('approver', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('approvals_workflow_event_unique', ['workflow_id', 'event_key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('approvals').ifExists().execute();
}
