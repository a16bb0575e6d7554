import { sql } from 'kysely';
import type { DeploymentRole, PredictionRow } from '../schema';
import type { DbExecutor } from './executor';

/** One instance scored by one model version, as the gateway logs it. */
export interface PredictionLogEntry {
  model: string;
  requestId: string;
  routingKey: string | null;
  modelVersionId: string;
  role: DeploymentRole;
  /** The instance's raw feature values, as received. */
  features: Readonly<Record<string, unknown>>;
  /** P(positive class); null when scoring failed. */
  probability: number | null;
  predictedLabel: number | null;
  /** Time the version took to score the request's rows, in milliseconds. */
  latencyMs: number;
  error: string | null;
  createdAt: Date;
}

export interface Prediction extends PredictionLogEntry {
  id: string;
}

function toPrediction(row: PredictionRow): Prediction {
  return {
    id: row.id,
    model: row.model,
    requestId: row.request_id,
    routingKey: row.routing_key,
    modelVersionId: String(row.model_version_id),
    role: row.role,
    features: row.features as Record<string, unknown>,
    probability: row.probability,
    predictedLabel: row.predicted_label,
    latencyMs: row.latency_ms,
    error: row.error,
    createdAt: row.created_at,
  };
}

/**
 * Writes many log entries in one statement. Columns travel as one array parameter each
 * (`insert … select from unnest(…)`): eleven parameters whatever the row count, so
 * thousands of rows cost one parse and no placeholder limit applies.
 */
export async function insertPredictions(db: DbExecutor, rows: readonly PredictionLogEntry[]): Promise<void> {
  if (rows.length === 0) return;
  const n = rows.length;
  const model = new Array<string>(n);
  const requestId = new Array<string>(n);
  const routingKey = new Array<string | null>(n);
  const versionId = new Array<string>(n);
  const role = new Array<string>(n);
  const features = new Array<string>(n);
  const probability = new Array<number | null>(n);
  const label = new Array<number | null>(n);
  const latency = new Array<number>(n);
  const error = new Array<string | null>(n);
  const createdAt = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    model[i] = r.model;
    requestId[i] = r.requestId;
    routingKey[i] = r.routingKey;
    versionId[i] = r.modelVersionId;
    role[i] = r.role;
    features[i] = JSON.stringify(r.features);
    // NaN and infinities are not valid double literals for Postgres arrays: a non-finite score is stored as missing.
    probability[i] = r.probability !== null && Number.isFinite(r.probability) ? r.probability : null;
    label[i] = r.predictedLabel;
    latency[i] = r.latencyMs;
    error[i] = r.error;
    createdAt[i] = r.createdAt.toISOString();
  }
  await sql`
    insert into predictions (model, request_id, routing_key, model_version_id, role, features, probability, predicted_label, latency_ms, error, created_at)
    select * from unnest(
      ${model}::text[], ${requestId}::text[], ${routingKey}::text[], ${versionId}::bigint[], ${role}::text[], ${features}::jsonb[],
      ${probability}::float8[], ${label}::int[], ${latency}::real[], ${error}::text[], ${createdAt}::timestamptz[]
    )
  `.execute(db);
}

/** Logged predictions of a model (optionally only these request ids), oldest first. */
export async function listPredictions(db: DbExecutor, query: { model: string; requestIds?: readonly string[]; limit?: number }): Promise<Prediction[]> {
  let q = db.selectFrom('predictions').selectAll().where('model', '=', query.model);
  if (query.requestIds) {
    if (query.requestIds.length === 0) return [];
    q = q.where('request_id', 'in', [...query.requestIds]);
  }
  const rows = await q.orderBy('id').limit(query.limit ?? 100_000).execute();
  return rows.map(toPrediction);
}

/** Request ids of a model's logged predictions (distinct). */
export async function listPredictedRequestIds(db: DbExecutor, model: string, role?: DeploymentRole): Promise<Set<string>> {
  let q = db.selectFrom('predictions').select('request_id').distinct().where('model', '=', model);
  if (role) q = q.where('role', '=', role);
  const rows = await q.execute();
  return new Set(rows.map((r) => r.request_id));
}

export interface PredictionStats {
  /** Logged predictions (rows), failed ones included. */
  requests: number;
  errors: number;
  /** Over successful predictions; null when there were none. In milliseconds. */
  latencyP50: number | null;
  latencyP99: number | null;
}

export interface PredictionWindow {
  model: string;
  versionId: string;
  /** Only rows logged with this role (e.g. 'canary'); all roles when omitted. */
  role?: DeploymentRole;
  since: Date;
  /** Exclusive; open-ended when omitted. */
  until?: Date;
}

/** Volume, errors and latency percentiles (percentile_cont) of one version over a time window. */
export async function predictionStats(db: DbExecutor, window: PredictionWindow): Promise<PredictionStats> {
  let q = db
    .selectFrom('predictions')
    .select([
      sql<string>`count(*)`.as('requests'),
      sql<string>`count(error)`.as('errors'),
      sql<number | null>`percentile_cont(0.5) within group (order by latency_ms) filter (where error is null)`.as('p50'),
      sql<number | null>`percentile_cont(0.99) within group (order by latency_ms) filter (where error is null)`.as('p99'),
    ])
    .where('model', '=', window.model)
    .where('model_version_id', '=', window.versionId)
    .where('created_at', '>=', window.since);
  if (window.role) q = q.where('role', '=', window.role);
  if (window.until) q = q.where('created_at', '<', window.until);
  const row = await q.executeTakeFirstOrThrow();
  return {
    requests: Number(row.requests),
    errors: Number(row.errors),
    latencyP50: row.p50 === null ? null : Number(row.p50),
    latencyP99: row.p99 === null ? null : Number(row.p99),
  };
}

/** A mirrored request: what the champion answered and what the shadow would have. */
export interface PairedShadowPrediction {
  requestId: string;
  championVersionId: string;
  /** Null when that side failed. */
  championProbability: number | null;
  shadowProbability: number | null;
  championLatencyMs: number;
  shadowLatencyMs: number;
  shadowError: string | null;
}

/**
 * Champion and shadow predictions of the same requests since `since`, joined by request id
 * (requests the canary served have no champion row and are left out), oldest first.
 */
export async function pairedShadowPredictions(
  db: DbExecutor,
  query: { model: string; shadowVersionId: string; since: Date; until?: Date; limit?: number },
): Promise<PairedShadowPrediction[]> {
  let q = db
    .selectFrom('predictions as s')
    .innerJoin('predictions as c', (join) => join.onRef('c.model', '=', 's.model').onRef('c.request_id', '=', 's.request_id'))
    .select([
      's.request_id as requestId',
      'c.model_version_id as championVersionId',
      'c.probability as championProbability',
      's.probability as shadowProbability',
      'c.latency_ms as championLatencyMs',
      's.latency_ms as shadowLatencyMs',
      's.error as shadowError',
    ])
    .where('s.model', '=', query.model)
    .where('s.role', '=', 'shadow')
    .where('s.model_version_id', '=', query.shadowVersionId)
    .where('s.created_at', '>=', query.since)
    .where('c.role', '=', 'champion');
  if (query.until) q = q.where('s.created_at', '<', query.until);
  const rows = await q.orderBy('s.id').limit(query.limit ?? 1_000_000).execute();
  return rows.map((r) => ({ ...r, championVersionId: String(r.championVersionId) }));
}

export interface LabelledOutcome {
  requestId: string;
  probability: number;
  predictedLabel: number;
  label: number;
}

/** A version's successful predictions since `since` that have feedback, with the true label (oldest first). */
export async function labelledOutcomes(
  db: DbExecutor,
  query: { model: string; versionId: string; role?: DeploymentRole; since: Date; until?: Date },
): Promise<LabelledOutcome[]> {
  let q = db
    .selectFrom('predictions as p')
    .innerJoin('feedback as f', (join) => join.onRef('f.model', '=', 'p.model').onRef('f.request_id', '=', 'p.request_id'))
    .select(['p.request_id as requestId', 'p.probability', 'p.predicted_label as predictedLabel', 'f.label'])
    .where('p.model', '=', query.model)
    .where('p.model_version_id', '=', query.versionId)
    .where('p.created_at', '>=', query.since)
    .where('p.error', 'is', null);
  if (query.role) q = q.where('p.role', '=', query.role);
  if (query.until) q = q.where('p.created_at', '<', query.until);
  const rows = await q.orderBy('p.id').execute();
  return rows.map((r) => ({ requestId: r.requestId, probability: Number(r.probability), predictedLabel: Number(r.predictedLabel), label: r.label }));
}
