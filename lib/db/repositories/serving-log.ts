/**
 * The gateway's one ordered log of what it served: prediction rows (serialized COPY lines, see
 * predictionSerializer) and the feedback labels of served request ids, written in the order the
 * gateway queued them. A label is queued after its prediction's row, so it is written in the
 * same transaction as that row or a later one: Postgres never holds a label before its
 * prediction, and both wait in the gateway's memory together while Postgres is down.
 *
 * A batch of prediction lines alone is one COPY (atomic by itself, the fast path); a batch with
 * feedback is one transaction: the COPY, then the labels (`on conflict do nothing`: a label is
 * recorded once per model and request id, the first one stays).
 */
import pg from 'pg';
import { copyPredictionLines, copyPredictions, isPredictionLineStored } from './predictions';

/** A label for a served request id, as the gateway queues it. */
export interface FeedbackLogEntry {
  readonly model: string;
  readonly requestId: string;
  readonly label: number;
}

/** A prediction row (its COPY line) or a label. */
export type ServingLogEntry = string | FeedbackLogEntry;

/** Writes a batch of the log in one transaction (see the module doc). */
export async function writeServingLog(pool: pg.Pool, entries: readonly ServingLogEntry[]): Promise<void> {
  const lines: string[] = [];
  const feedback: FeedbackLogEntry[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') lines.push(entry);
    else feedback.push(entry);
  }
  if (feedback.length === 0) return copyPredictions(pool, lines);
  const client = await pool.connect();
  try {
    await client.query('begin');
    if (lines.length > 0) await copyPredictionLines(client, lines);
    await client.query(
      `insert into feedback (model, request_id, label)
       select * from unnest($1::text[], $2::text[], $3::int[])
       on conflict on constraint feedback_model_request_unique do nothing`,
      [feedback.map((f) => f.model), feedback.map((f) => f.requestId), feedback.map((f) => f.label)],
    );
    await client.query('commit');
  } catch (err) {
    if (err instanceof pg.DatabaseError) {
      // The connection is fine: end the failed transaction and keep it.
      await client.query('rollback').catch(() => undefined);
      client.release();
    } else {
      client.release(true);
    }
    throw err;
  }
  client.release();
}

/**
 * Whether a batch whose write lost its connection was committed nonetheless: one of its
 * prediction rows tells (the batch is one transaction). A batch of labels only is never
 * reported stored: writing it again is harmless (`on conflict do nothing`).
 */
export async function isServingLogStored(pool: pg.Pool, entries: readonly ServingLogEntry[]): Promise<boolean> {
  const line = entries.find((e): e is string => typeof e === 'string');
  return line === undefined ? false : isPredictionLineStored(pool, line);
}
