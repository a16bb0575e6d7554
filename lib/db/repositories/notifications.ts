import { sql } from 'kysely';
import type { DbExecutor } from '../executor';
import type { NotificationAttemptOutcome, NotificationRow, NotificationState } from '../schema';

/** One event of one run as sent to one target, with the outcome of every delivery attempt. */
export interface NotificationRecord {
  id: string;
  workflowId: string;
  runId: string;
  eventKey: string;
  event: string;
  model: string;
  target: string;
  format: 'json' | 'slack';
  payloadSha256: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  outcomes: NotificationAttemptOutcome[];
  state: NotificationState;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewNotification = Pick<NotificationRecord, 'workflowId' | 'runId' | 'eventKey' | 'event' | 'model' | 'target' | 'format' | 'payloadSha256'>;

function toNotificationRecord(row: NotificationRow): NotificationRecord {
  return {
    id: String(row.id),
    workflowId: row.workflow_id,
    runId: row.run_id,
    eventKey: row.event_key,
    event: row.event,
    model: row.model,
    target: row.target,
    format: row.format,
    payloadSha256: row.payload_sha256,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    outcomes: row.outcomes,
    state: row.state,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The notification of this event of this run to this target: created (pending, no attempt yet)
 * the first time, returned as it stands afterwards, so a retried activity continues where the
 * last attempt left off and never sends a delivered notification again.
 */
export async function openNotification(db: DbExecutor, notification: NewNotification): Promise<NotificationRecord> {
  await db
    .insertInto('notifications')
    .values({
      workflow_id: notification.workflowId,
      run_id: notification.runId,
      event_key: notification.eventKey,
      event: notification.event,
      model: notification.model,
      target: notification.target,
      format: notification.format,
      payload_sha256: notification.payloadSha256,
    })
    .onConflict((oc) => oc.constraint('notifications_event_target_unique').doNothing())
    .execute();
  const row = await db
    .selectFrom('notifications')
    .selectAll()
    .where('workflow_id', '=', notification.workflowId)
    .where('run_id', '=', notification.runId)
    .where('event_key', '=', notification.eventKey)
    .where('target', '=', notification.target)
    .executeTakeFirstOrThrow();
  return toNotificationRecord(row);
}

/**
 * Records one delivery attempt: the attempt count, the last status and error, the outcome in the
 * list, and the state it leaves the notification in ('delivered' stamps delivered_at).
 */
export async function recordNotificationAttempt(db: DbExecutor, id: string, outcome: NotificationAttemptOutcome, state: NotificationState): Promise<NotificationRecord> {
  const row = await db
    .updateTable('notifications')
    .set({
      attempts: sql<number>`attempts + 1`,
      last_status: outcome.status,
      last_error: outcome.error,
      outcomes: sql<string>`outcomes || ${JSON.stringify([outcome])}::jsonb`,
      state,
      delivered_at: state === 'delivered' ? sql<Date>`now()` : null,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toNotificationRecord(row);
}

/** Gives up on a notification without another attempt (its attempts were used up by earlier activity attempts). */
export async function markNotificationFailed(db: DbExecutor, id: string): Promise<NotificationRecord> {
  const row = await db.updateTable('notifications').set({ state: 'failed', updated_at: sql<Date>`now()` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  return toNotificationRecord(row);
}

/** A run's notifications (all runs of the workflow id when runId is omitted), oldest first. */
export async function listNotifications(db: DbExecutor, filter: { workflowId: string; runId?: string } | { model: string }): Promise<NotificationRecord[]> {
  let query = db.selectFrom('notifications').selectAll();
  if ('model' in filter) query = query.where('model', '=', filter.model);
  else {
    query = query.where('workflow_id', '=', filter.workflowId);
    if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
  }
  const rows = await query.orderBy('id').execute();
  return rows.map(toNotificationRecord);
}
