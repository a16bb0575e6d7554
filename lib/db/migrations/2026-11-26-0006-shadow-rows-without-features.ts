import { sql, type Kysely } from 'kysely';

/**
 * Shadow rows stop repeating the request's features: the serving row (champion or canary)
 * with the same request id holds them. A shadow doubles the prediction log's rows, and the
 * features are most of a row's bytes and of Postgres's work to store it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table predictions alter column features drop not null`.execute(db);
  await sql`alter table predictions add constraint predictions_features_present check (features is not null or role = 'shadow')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table predictions drop constraint predictions_features_present`.execute(db);
  // Shadow rows written since have no features of their own: take the serving row's.
  await sql`
    update predictions s set features = coalesce(
      (select c.features from predictions c where c.model = s.model and c.request_id = s.request_id and c.role <> 'shadow' order by c.id limit 1),
      '{}'::jsonb)
    where s.features is null
  `.execute(db);
  await sql`alter table predictions alter column features set not null`.execute(db);
}
