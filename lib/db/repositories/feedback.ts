import type { FeedbackRow } from '../schema';
import type { DbExecutor } from '../executor';

/** Ground truth for one served request. */
export interface Feedback {
  id: string;
  model: string;
  requestId: string;
  label: number;
  createdAt: Date;
}

function toFeedback(row: FeedbackRow): Feedback {
  return { id: row.id, model: row.model, requestId: row.request_id, label: row.label, createdAt: row.created_at };
}

/**
 * Records the label of a request once. Sending it again returns the stored row
 * (`created: false`); the caller decides what a different label means.
 */
export async function insertFeedback(db: DbExecutor, input: { model: string; requestId: string; label: number }): Promise<{ feedback: Feedback; created: boolean }> {
  const inserted = await db
    .insertInto('feedback')
    .values({ model: input.model, request_id: input.requestId, label: input.label })
    .onConflict((oc) => oc.constraint('feedback_model_request_unique').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { feedback: toFeedback(inserted), created: true };
  const existing = await getFeedback(db, input.model, input.requestId);
  if (!existing) throw new Error(`feedback for ${input.model}/${input.requestId} vanished after a conflicting insert`);
  return { feedback: existing, created: false };
}

export async function getFeedback(db: DbExecutor, model: string, requestId: string): Promise<Feedback | undefined> {
  const row = await db.selectFrom('feedback').selectAll().where('model', '=', model).where('request_id', '=', requestId).executeTakeFirst();
  return row && toFeedback(row);
}

/** What Postgres knows of a request id: whether a served row (champion or canary, not failed) is logged, and its label if one was recorded. */
export async function servedRequestFeedback(db: DbExecutor, model: string, requestId: string): Promise<{ served: boolean; label: number | null }> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .exists(
          eb
            .selectFrom('predictions')
            .select(eb.lit(1).as('one'))
            .where('model', '=', model)
            .where('request_id', '=', requestId)
            .where('role', '<>', 'shadow')
            .where('error', 'is', null),
        )
        .as('served'),
      eb.selectFrom('feedback').select('label').where('model', '=', model).where('request_id', '=', requestId).as('label'),
    ])
    .executeTakeFirstOrThrow();
  return { served: Boolean(row.served), label: row.label ?? null };
}
