import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { NotifyTarget } from '../config/environment';
import { postWebhook, type WebhookAnswer } from '../clients/webhook-client';
import { temporalUiRunUrl } from '../clients/temporal-ui-link';
import { markNotificationFailed, openNotification, recordNotificationAttempt, type NotificationRecord } from '../db/repositories/notifications';
import type { Database, NotificationState } from '../db/schema';
import type { NotificationEvent, NotificationEventKind } from './notification-event';
import { renderNotification } from './notification-payload';

/** Who is notified and how hard delivery tries (the worker's, from RETRAIN_NOTIFY_* and the stack's Temporal UI). */
export interface NotifierSettings {
  targets: readonly NotifyTarget[];
  /** Base URL of the Temporal Web UI, for the run's link; null when unknown. */
  temporalUiUrl: string | null;
  /** Attempts per notification and target, all activity attempts together (RETRAIN_NOTIFY_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Wait before the second attempt, doubling after each one up to maxDelayMs (a Retry-After that asks for longer is honoured up to maxDelayMs). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** How long one attempt waits for the webhook's answer. */
  attemptTimeoutMs?: number;
}

export const NOTIFIER_DEFAULTS = { initialDelayMs: 1_000, maxDelayMs: 30_000, attemptTimeoutMs: 10_000 } as const;

/** Where a notification to one target ended up. */
export interface TargetOutcome {
  target: string;
  state: NotificationState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

/** What one event's notification came to, target by target (empty when no target is configured). */
export interface NotificationOutcome {
  event: NotificationEventKind;
  key: string;
  targets: TargetOutcome[];
}

export interface DeliveryIo {
  /** Waits between attempts (the activity's cancellable sleep, heartbeating). */
  wait(ms: number): Promise<void>;
  post?: typeof postWebhook;
}

/**
 * Sends one event to every configured target, each with its own attempts: a 2xx answer
 * delivers it; no answer, 408, 425, 429 and 5xx are tried again after a backoff (1 s doubling to
 * 30 s by default); any other answer (a 3xx, 4xx: a wrong URL or a payload the receiver refuses)
 * fails it at once, since repeating it would get the same answer. Every attempt's outcome is
 * recorded in `notifications` before the next one, so a retried activity continues the count and
 * never sends again what was delivered. A notification that fails is recorded as failed and
 * returned as such: it never throws for a webhook, only when Postgres cannot record.
 */
export async function deliverNotification(
  db: Kysely<Database>,
  settings: NotifierSettings,
  event: NotificationEvent,
  run: { namespace: string; workflowId: string; runId: string },
  io: DeliveryIo,
): Promise<NotificationOutcome> {
  const notified = { ...run, url: temporalUiRunUrl(settings.temporalUiUrl, run.namespace, run.workflowId, run.runId) };
  const targets = await Promise.all(
    settings.targets.map(async (target) => {
      const body = renderNotification(target.format, event, notified);
      const record = await openNotification(db, {
        workflowId: run.workflowId,
        runId: run.runId,
        eventKey: event.key,
        event: event.event,
        model: event.model,
        target: targetLabel(target),
        format: target.format,
        payloadSha256: createHash('sha256').update(body).digest('hex'),
      });
      return outcomeOf(await deliverToTarget(db, settings, target, body, record, io));
    }),
  );
  return { event: event.event, key: event.key, targets };
}

async function deliverToTarget(db: Kysely<Database>, settings: NotifierSettings, target: NotifyTarget, body: string, opened: NotificationRecord, io: DeliveryIo): Promise<NotificationRecord> {
  const initialDelayMs = settings.initialDelayMs ?? NOTIFIER_DEFAULTS.initialDelayMs;
  const maxDelayMs = settings.maxDelayMs ?? NOTIFIER_DEFAULTS.maxDelayMs;
  const timeoutMs = settings.attemptTimeoutMs ?? NOTIFIER_DEFAULTS.attemptTimeoutMs;
  const post = io.post ?? postWebhook;
  let record = opened;
  if (record.state !== 'pending') return record;
  if (record.attempts >= settings.maxAttempts) return markNotificationFailed(db, record.id);
  // An earlier activity attempt made some: the backoff goes on from there.
  if (record.attempts > 0) await io.wait(backoffMs(record.attempts, null, initialDelayMs, maxDelayMs));
  for (;;) {
    const at = new Date().toISOString();
    const answer = await post(target.url, body, { timeoutMs });
    const verdict = judge(answer);
    const exhausted = record.attempts + 1 >= settings.maxAttempts;
    const state: NotificationState = verdict === 'delivered' ? 'delivered' : verdict === 'permanent' || exhausted ? 'failed' : 'pending';
    record = await recordNotificationAttempt(db, record.id, { at, status: answer.status, error: answer.error, ms: answer.ms }, state);
    if (record.state !== 'pending') return record;
    await io.wait(backoffMs(record.attempts, answer.retryAfterSeconds, initialDelayMs, maxDelayMs));
  }
}

/** Delivered, worth another attempt, or an answer another attempt would get again. */
function judge(answer: WebhookAnswer): 'delivered' | 'retry' | 'permanent' {
  if (answer.status === null) return 'retry';
  if (answer.status >= 200 && answer.status < 300) return 'delivered';
  if (answer.status >= 500 || answer.status === 408 || answer.status === 425 || answer.status === 429) return 'retry';
  return 'permanent';
}

/** The wait after `attempts` attempts: initial × 2^(attempts−1), at least what Retry-After asked, at most maxDelayMs. */
export function backoffMs(attempts: number, retryAfterSeconds: number | null, initialDelayMs: number, maxDelayMs: number): number {
  const doubled = initialDelayMs * 2 ** Math.max(0, attempts - 1);
  return Math.min(maxDelayMs, Math.max(doubled, (retryAfterSeconds ?? 0) * 1000));
}

/**
 * How a target is named in records and logs: its format, origin and the first 12 hex digits of
 * the sha256 of its URL, e.g. "slack https://hooks.slack.com #3f2a…": tells targets apart
 * without storing the URL, whose path is the credential of a Slack webhook.
 */
export function targetLabel(target: NotifyTarget): string {
  return `${target.format} ${new URL(target.url).origin} #${createHash('sha256').update(target.url).digest('hex').slice(0, 12)}`;
}

function outcomeOf(record: NotificationRecord): TargetOutcome {
  return { target: record.target, state: record.state, attempts: record.attempts, lastStatus: record.lastStatus, lastError: record.lastError };
}
