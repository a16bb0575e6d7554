import { sql, type Kysely } from 'kysely';

/**
 * Every model version carries its serving contract (lib/spec/serving-contract.ts): the gateway
 * validates requests against the serving version's contract instead of the model's latest spec
 * (`models.spec`), which any run's start used to overwrite. Versions registered before this
 * migration get one from their model's spec as it stands, the spec the gateway validated them
 * against until now, so nothing a client sees changes: the features (name and kind, in the
 * spec's order), the decision threshold 0.5, and no inputs or classes (their models are not
 * opened here; the gateway reads both when it loads a version).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table model_versions add column contract jsonb`.execute(db);
  await sql`
    update model_versions v set contract = jsonb_build_object(
      'features', (
        select coalesce(jsonb_agg(jsonb_build_object('name', f.value ->> 'name', 'kind', f.value ->> 'kind') order by f.ordinality), '[]'::jsonb)
        from models m, jsonb_array_elements(m.spec -> 'features') with ordinality as f(value, ordinality)
        where m.name = v.model
      ),
      'inputs', null,
      'classes', null,
      'decisionThreshold', 0.5,
      'origin', 'backfilled'
    )
  `.execute(db);
  await sql`alter table model_versions alter column contract set not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table model_versions drop column contract`.execute(db);
}
