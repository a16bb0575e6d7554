/**
 * What the model gauges (lib/monitoring/model-gauges.ts) read from Postgres: the versions each
 * model serves now and since when, and, over a recent window of the prediction log, what they
 * predicted and how the labels that arrived compare. Only deployed versions are read, so the
 * gauges' label sets stay as small as what is served.
 */
import { sql } from 'kysely';
import type { DbExecutor } from '../executor';
import type { DeploymentRole } from '../schema';

/** A version in a role of a model's deployment. */
export interface DeployedVersion {
  model: string;
  versionId: string;
  version: number;
  role: DeploymentRole;
  /** When the version took this role (the latest traffic change that put it there); null when no change recorded it. */
  since: Date | null;
}

/** The deployed versions of every model, each role a row (a version deployed in two roles is two rows). */
export async function listDeployedVersions(db: DbExecutor): Promise<DeployedVersion[]> {
  const { rows } = await sql<{ model: string; version_id: string; version: number; role: DeploymentRole; since: Date | null }>`
    select d.model, v.id::text as version_id, v.version, r.role,
      (select max(c.created_at) from deployment_changes c
        where c.model = d.model
          and c.after ->> (r.role || 'VersionId') = v.id::text
          and coalesce(c.before ->> (r.role || 'VersionId'), '') <> v.id::text) as since
    from deployments d
    cross join lateral (values ('champion', d.champion_version_id), ('canary', d.canary_version_id), ('shadow', d.shadow_version_id)) as r(role, version_id)
    join model_versions v on v.id = r.version_id
    order by d.model, v.version, r.role`.execute(db);
  return rows.map((r) => ({ model: r.model, versionId: r.version_id, version: r.version, role: r.role, since: r.since }));
}

/** One version's predictions of one class over the window, and the labels that arrived for them. */
export interface OnlineOutcomes {
  /** The predicted class (0 or 1). */
  predictedLabel: number;
  predictions: number;
  /** Of them, how many have a label... */
  labelled: number;
  /** ...and how many of those the version predicted right. */
  correct: number;
  /** When the newest of those labels was stored; null when none arrived. */
  lastLabelAt: Date | null;
}

/**
 * A version's scored predictions (every role, failures excluded) of the last `windowSeconds` by
 * the database clock, joined with the feedback stored for their request ids, per predicted class.
 * Reads the index on (model, model_version_id, created_at).
 */
export async function onlineOutcomes(db: DbExecutor, model: string, versionId: string, windowSeconds: number): Promise<OnlineOutcomes[]> {
  const { rows } = await sql<{ predicted_label: number; predictions: number; labelled: number; correct: number; last_label_at: Date | null }>`
    select p.predicted_label,
      count(*)::int as predictions,
      count(f.label)::int as labelled,
      (count(*) filter (where f.label = p.predicted_label))::int as correct,
      max(f.created_at) as last_label_at
    from predictions p
    left join feedback f on f.model = p.model and f.request_id = p.request_id
    where p.model = ${model} and p.model_version_id = ${versionId}
      and p.created_at >= now() - make_interval(secs => ${windowSeconds})
      and p.error is null and p.predicted_label is not null
    group by p.predicted_label
    order by p.predicted_label`.execute(db);
  return rows.map((r) => ({ predictedLabel: r.predicted_label, predictions: r.predictions, labelled: r.labelled, correct: r.correct, lastLabelAt: r.last_label_at }));
}

/** The accuracy each version had in its latest offline evaluation (on its held-out day), by version id. */
export async function offlineAccuracies(db: DbExecutor, versionIds: readonly string[]): Promise<Map<string, number>> {
  if (versionIds.length === 0) return new Map();
  const { rows } = await sql<{ version_id: string; accuracy: number | null }>`
    select distinct on (model_version_id) model_version_id::text as version_id, (metrics -> 'candidate' ->> 'accuracy')::float8 as accuracy
    from evaluations
    where kind = 'offline' and model_version_id::text in (${sql.join(versionIds.map((id) => sql`${id}`))})
    order by model_version_id, created_at desc`.execute(db);
  return new Map(rows.flatMap((r) => (r.accuracy === null ? [] : [[r.version_id, r.accuracy] as const])));
}
