import { finished } from 'node:stream/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DECISION_THRESHOLD } from '../../stats/decision-threshold';
import type { DeploymentRole, PredictionRow } from '../schema';
import type { DbExecutor } from '../executor';

/** One instance scored by one model version, as the gateway logs it. */
export interface PredictionLogEntry {
  model: string;
  requestId: string;
  routingKey: string | null;
  modelVersionId: string;
  role: DeploymentRole;
  /** The instance's raw feature values, as received (not stored on shadow rows: see Prediction.features). */
  features: Readonly<Record<string, unknown>>;
  /** P(positive class); null when scoring failed. */
  probability: number | null;
  predictedLabel: number | null;
  /** The model's time for the call that scored this row, in milliseconds. */
  latencyMs: number;
  /**
   * Whether that call scored this request's rows only (always, for served rows). Shadow rows of
   * mirrored requests merged into one call under load are not: their latency is the merged call's,
   * so latency comparisons use rows scored alone.
   */
  scoredAlone: boolean;
  error: string | null;
  createdAt: Date;
}

export interface Prediction extends Omit<PredictionLogEntry, 'features'> {
  id: string;
  /** Null on shadow rows: the serving row (champion or canary) of the same request id holds them. */
  features: Record<string, unknown> | null;
}

function toPrediction(row: PredictionRow): Prediction {
  return {
    id: row.id,
    model: row.model,
    requestId: row.request_id,
    routingKey: row.routing_key,
    modelVersionId: String(row.model_version_id),
    role: row.role,
    features: row.features as Record<string, unknown> | null,
    probability: row.probability,
    predictedLabel: row.predicted_label,
    latencyMs: row.latency_ms,
    scoredAlone: row.scored_alone,
    error: row.error,
    createdAt: row.created_at,
  };
}

/** The fields every row of one model version in one role shares. */
export type PredictionRowOrigin = Pick<PredictionLogEntry, 'model' | 'modelVersionId' | 'role'>;

/** The rest of a row; `createdAt` may come pre-rendered (ISO 8601) when many rows share it. */
export type PredictionRowFields = Omit<PredictionLogEntry, keyof PredictionRowOrigin | 'createdAt'> & { createdAt: Date | string };

/** Columns in the order of copyPredictions' lines: the origin's first, rendered once per serializer. */
const COPY_PREDICTIONS = `copy predictions (model, model_version_id, role, request_id, routing_key, features, probability,
  predicted_label, latency_ms, scored_alone, error, created_at) from stdin`;

/** COPY's text format marks a missing value with \N. */
const COPY_NULL = '\\N';

/**
 * A serializer of rows of one origin into lines of COPY's text format (what copyPredictions
 * writes). A caller that holds rows for a while before writing them (the gateway's prediction
 * log) serializes each row when it is made: one string per row is all it then keeps.
 * Shadow rows leave the features out: the serving row of the same request holds them.
 */
export function predictionSerializer(origin: PredictionRowOrigin): (row: PredictionRowFields) => string {
  const head = `${copyText(origin.model)}\t${copyText(origin.modelVersionId)}\t${copyText(origin.role)}\t`;
  const withFeatures = origin.role !== 'shadow';
  return (r) => {
    const createdAt = typeof r.createdAt === 'string' ? r.createdAt : r.createdAt.toISOString();
    const line =
      `${head}${copyText(r.requestId)}\t${r.routingKey === null ? COPY_NULL : copyText(r.routingKey)}\t` +
      `${withFeatures ? copyText(JSON.stringify(r.features)) : COPY_NULL}\t${copyNumber(r.probability)}\t${r.predictedLabel ?? COPY_NULL}\t` +
      `${Number.isFinite(r.latencyMs) ? r.latencyMs : 0}\t${r.scoredAlone ? 't' : 'f'}\t${r.error === null ? COPY_NULL : copyText(r.error)}\t${createdAt}\n`;
    // Concatenation makes a rope (a tree of string pieces, about 780 bytes for a flight-delay row);
    // reading a character makes V8 flatten it into one string (about 235 bytes). A row can wait in
    // memory for the length of a Postgres outage, so it is kept flat.
    line.charCodeAt(0);
    return line;
  };
}

const COPY_SPECIAL = /[\\\n\r\t]/;

/** A text value escaped for COPY's text format (backslash, newline, carriage return and tab). */
function copyText(value: string): string {
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

/** A score as COPY text; a non-finite one is stored as missing. */
function copyNumber(value: number | null): string {
  return value !== null && Number.isFinite(value) ? String(value) : COPY_NULL;
}

/**
 * Writes serialized rows (see predictionSerializer) with one COPY FROM STDIN on a connection of
 * `pool`. COPY costs Postgres about a third less CPU per row than a multi-row insert from a JSON
 * array (measured: 8.6 against 12.4 µs per row with features, 7.0 against 11.5 without). A failed
 * COPY writes nothing.
 */
export async function copyPredictions(pool: pg.Pool, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const client = await pool.connect();
  try {
    await copyPredictionLines(client, lines);
  } catch (err) {
    // Postgres refused the rows (the connection is fine), or the connection broke (discard it).
    client.release(err instanceof pg.DatabaseError ? undefined : true);
    throw err;
  }
  client.release();
}

/** The COPY of copyPredictions on a connection the caller holds (e.g. inside its transaction). */
export async function copyPredictionLines(client: pg.PoolClient, lines: readonly string[]): Promise<void> {
  const copy = client.query(copyFrom(COPY_PREDICTIONS));
  copy.end(lines.join(''));
  await finished(copy);
}

/**
 * Whether the row of a serialized line is in the table: the same model, request id, role,
 * version and creation time (a row's identity; the served-row unique index and
 * predictions_model_request make it one index probe).
 */
export async function isPredictionLineStored(client: pg.ClientBase | pg.Pool, line: string): Promise<boolean> {
  const fields = line.replace(/\n$/, '').split('\t');
  const [model, versionId, role, requestId] = fields.slice(0, 4).map(copyTextValue);
  const createdAt = fields[COPY_COLUMN_COUNT - 1]!.trimEnd();
  const { rows } = await client.query<{ stored: boolean }>(
    'select exists (select 1 from predictions where model = $1 and request_id = $2 and role = $3 and model_version_id = $4 and created_at = $5) as stored',
    [model, requestId, role, versionId, createdAt],
  );
  return rows[0]?.stored === true;
}

const COPY_COLUMN_COUNT = 12;

/** A COPY text field read back (the inverse of copyText). */
function copyTextValue(field: string): string {
  return field.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c));
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
  /** Successful predictions scored alone (see PredictionLogEntry.scoredAlone): the latency sample. */
  timed: number;
  /** Over successful predictions scored alone; null when there were none. In milliseconds. */
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

/**
 * The label the decision rule (lib/stats/decision-threshold) gives a logged probability, in SQL:
 * null for a failed row. The threshold is a bound parameter, so SQL and TypeScript share it.
 */
function labelOf(probability: 'p.probability' | 'c.probability' | 's.probability') {
  return sql<number | null>`(${sql.ref(probability)} >= ${DECISION_THRESHOLD})::int`;
}

/**
 * Volume, errors and latency percentiles of one version over a time window. Postgres'
 * percentile_cont is Retrain's one quantile definition, linear interpolation (quantileOfSorted in
 * lib/stats/quantile.ts, which the shadow's latencies use).
 */
export async function predictionStats(db: DbExecutor, window: PredictionWindow): Promise<PredictionStats> {
  let q = db
    .selectFrom('predictions')
    .select([
      sql<string>`count(*)`.as('requests'),
      sql<string>`count(error)`.as('errors'),
      sql<string>`count(*) filter (where error is null and scored_alone)`.as('timed'),
      sql<number | null>`percentile_cont(0.5) within group (order by latency_ms) filter (where error is null and scored_alone)`.as('p50'),
      sql<number | null>`percentile_cont(0.99) within group (order by latency_ms) filter (where error is null and scored_alone)`.as('p99'),
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
    timed: Number(row.timed),
    latencyP50: row.p50 === null ? null : Number(row.p50),
    latencyP99: row.p99 === null ? null : Number(row.p99),
  };
}

/**
 * The q-quantile of a version's latency over a window, on successful predictions scored alone;
 * null without any. percentile_cont: the definition of quantileOfSorted (lib/stats/quantile.ts).
 */
export async function latencyQuantile(db: DbExecutor, window: PredictionWindow, q: number): Promise<number | null> {
  let query = db
    .selectFrom('predictions')
    .select(sql<number | null>`percentile_cont(${q}) within group (order by latency_ms)`.as('latency'))
    .where('model', '=', window.model)
    .where('model_version_id', '=', window.versionId)
    .where('created_at', '>=', window.since)
    .where('error', 'is', null)
    .where('scored_alone', '=', true);
  if (window.role) query = query.where('role', '=', window.role);
  if (window.until) query = query.where('created_at', '<', window.until);
  const { latency } = await query.executeTakeFirstOrThrow();
  return latency === null ? null : Number(latency);
}

/** A mirrored request: what the champion answered and what the shadow would have. */
export interface PairedShadowPrediction {
  requestId: string;
  championVersionId: string;
  /** Null when that side failed. */
  championProbability: number | null;
  shadowProbability: number | null;
  /** Each side's label under the decision rule (lib/stats/decision-threshold); null when that side failed. */
  championLabel: number | null;
  shadowLabel: number | null;
  championLatencyMs: number;
  shadowLatencyMs: number;
  /**
   * Whether each side scored this request in a call of its own. A merged call's latency is the
   * whole call's: compare latencies on pairs where both are true (the gateway's latency probes).
   */
  championScoredAlone: boolean;
  shadowScoredAlone: boolean;
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
      labelOf('c.probability').as('championLabel'),
      labelOf('s.probability').as('shadowLabel'),
      'c.latency_ms as championLatencyMs',
      's.latency_ms as shadowLatencyMs',
      'c.scored_alone as championScoredAlone',
      's.scored_alone as shadowScoredAlone',
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
  /** The feedback row's id: labels in the order they arrived. */
  feedbackId: string;
  probability: number;
  /**
   * The decision rule's label for `probability` (lib/stats/decision-threshold), computed in the
   * query rather than read from predicted_label, so every row counts under the same rule.
   */
  predictedLabel: number;
  label: number;
}

/** A version's successful predictions since `since` that have feedback, with the true label, in the order the labels arrived. */
export async function labelledOutcomes(
  db: DbExecutor,
  query: { model: string; versionId: string; role?: DeploymentRole; since: Date; until?: Date },
): Promise<LabelledOutcome[]> {
  let q = db
    .selectFrom('predictions as p')
    .innerJoin('feedback as f', (join) => join.onRef('f.model', '=', 'p.model').onRef('f.request_id', '=', 'p.request_id'))
    .select(['p.request_id as requestId', 'f.id as feedbackId', 'p.probability', labelOf('p.probability').as('predictedLabel'), 'f.label'])
    .where('p.model', '=', query.model)
    .where('p.model_version_id', '=', query.versionId)
    .where('p.created_at', '>=', query.since)
    .where('p.error', 'is', null);
  if (query.role) q = q.where('p.role', '=', query.role);
  if (query.until) q = q.where('p.created_at', '<', query.until);
  const rows = await q.orderBy('f.id').execute();
  return rows.map((r) => ({ requestId: r.requestId, feedbackId: String(r.feedbackId), probability: Number(r.probability), predictedLabel: Number(r.predictedLabel), label: r.label }));
}
