import { sql } from 'kysely';
import type { FeatureCounts } from '../../stats/value-counts';
import type { DbExecutor } from '../executor';

/**
 * Aggregates of a window of the gateway's prediction log, computed by Postgres: the served rows
 * (role champion or canary, no scoring error) with `created_at` in [start, end). Only value
 * counts and small groups leave the database, never the rows.
 */
export interface PredictionLogWindow {
  model: string;
  start: Date;
  end: Date;
}

/** The features as the gateway logged them: value counts per feature, read from the features JSON by the type the feature should have. */
export async function windowFeatureCounts(
  db: DbExecutor,
  window: PredictionLogWindow,
  features: ReadonlyArray<{ name: string; kind: 'numeric' | 'categorical' }>,
): Promise<{ rows: number; features: Record<string, FeatureCounts> }> {
  if (features.length === 0) return { rows: 0, features: {} };
  const columns = features.map((f, i) =>
    f.kind === 'numeric'
      ? sql`case when jsonb_typeof(features -> ${f.name}) = 'number' then (features ->> ${f.name})::float8 end as ${sql.ref(`f${i}`)}`
      : sql`case when jsonb_typeof(features -> ${f.name}) = 'string' then features ->> ${f.name} end as ${sql.ref(`f${i}`)}`,
  );
  const names = features.map((_, i) => sql.ref(`f${i}`));
  const groupings = features.map((_, i) => sql`grouping(${sql.ref(`f${i}`)}) as ${sql.ref(`g${i}`)}`);
  const sets = features.map((_, i) => sql`(${sql.ref(`f${i}`)})`);
  const order = features.map((_, i) => sql`${sql.ref(`f${i}`)} nulls last`);
  const result = await sql<Record<string, unknown>>`
    select ${sql.join(groupings)}, ${sql.join(names)}, count(*)::float8 as n
    from (select ${sql.join(columns)} from predictions
          where model = ${window.model} and role in ('champion', 'canary') and error is null
            and created_at >= ${window.start} and created_at < ${window.end}) t
    group by grouping sets (${sql.join(sets)})
    order by ${sql.join(order)}
  `.execute(db);
  const out: Record<string, FeatureCounts> = {};
  let rows = 0;
  features.forEach((feature, i) => {
    const values: Array<number | string> = [];
    const counts: number[] = [];
    let missing = 0;
    for (const row of result.rows) {
      if (Number(row[`g${i}`]) !== 0) continue;
      const value = row[`f${i}`];
      const n = Number(row.n);
      if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) missing += n;
      else {
        values.push(feature.kind === 'numeric' ? Number(value) : String(value));
        counts.push(n);
      }
    }
    if (i === 0) rows = counts.reduce((s, c) => s + c, 0) + missing;
    out[feature.name] =
      feature.kind === 'numeric'
        ? { kind: 'numeric', values: Float64Array.from(values as number[]), counts: Float64Array.from(counts), missing }
        : { kind: 'categorical', categories: values as string[], counts: Float64Array.from(counts), missing };
  });
  return { rows, features: out };
}

/** Which keys the window's logged features had, with which JSON types, in how many rows (request schema drift). */
export async function windowFeatureTypes(db: DbExecutor, window: PredictionLogWindow): Promise<Array<{ key: string; type: string; rows: number }>> {
  const result = await sql<{ key: string; type: string; rows: string }>`
    select e.key, jsonb_typeof(e.value) as type, count(*) as rows
    from predictions p, jsonb_each(p.features) e
    where p.model = ${window.model} and p.role in ('champion', 'canary') and p.error is null
      and p.created_at >= ${window.start} and p.created_at < ${window.end}
    group by 1, 2 order by 1, 2
  `.execute(db);
  return result.rows.map((r) => ({ key: r.key, type: r.type, rows: Number(r.rows) }));
}

/**
 * One version's served predictions in the window, grouped by predicted label, the label that
 * arrived (null: pending) and the probability rounded to 4 decimals (at most 10 001 groups per
 * label pair, whatever the traffic; the calibration map is continuous, so rounding moves an
 * estimated accuracy by far less than its sampling error).
 */
export interface PredictionOutcomeGroup {
  predictedLabel: number;
  label: number | null;
  probability: number;
  rows: number;
}

export async function windowPredictionOutcomes(db: DbExecutor, window: PredictionLogWindow, modelVersionId: string): Promise<PredictionOutcomeGroup[]> {
  const result = await sql<{ predicted_label: number; label: number | null; probability: string; rows: string }>`
    select p.predicted_label, f.label, round(p.probability::numeric, 4)::float8 as probability, count(*) as rows
    from predictions p left join feedback f on f.model = p.model and f.request_id = p.request_id
    where p.model = ${window.model} and p.model_version_id = ${modelVersionId} and p.role in ('champion', 'canary')
      and p.error is null and p.probability is not null and p.predicted_label is not null
      and p.created_at >= ${window.start} and p.created_at < ${window.end}
    group by 1, 2, 3 order by 1, 2, 3
  `.execute(db);
  return result.rows.map((r) => ({ predictedLabel: Number(r.predicted_label), label: r.label === null ? null : Number(r.label), probability: Number(r.probability), rows: Number(r.rows) }));
}
