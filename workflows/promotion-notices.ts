import { log, proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import type { NotificationEvent } from '../lib/notification/notification-event';
import { activityOptions } from './activity-options';

// On the workflow's own queue: the pipeline and rollbackChampion run on the control queue, whose workers notify.
const { sendNotification } = proxyActivities<Pick<ControlActivities, 'sendNotification'>>(activityOptions.notification);

/**
 * Sends a notification of a promotion event and never rejects: a webhook that does not take it
 * is recorded as failed by the activity, and a failure of the activity itself (Postgres away for
 * its whole retry budget, or the run being cancelled) is logged. So a notification never fails a
 * run, and a call that is not awaited leaves no unhandled rejection behind.
 */
export function notify(event: NotificationEvent): Promise<void> {
  return sendNotification(event).then(
    (outcome) => {
      const undelivered = outcome.targets.filter((t) => t.state !== 'delivered');
      if (undelivered.length > 0) log.warn('notification not delivered', { event: event.key, targets: undelivered.map((t) => `${t.target}: ${t.lastError ?? t.state}`) });
    },
    (err: unknown) => log.warn('notification not sent', { event: event.key, error: err instanceof Error ? err.message : String(err) }),
  );
}

/** The evidence lines of a live promotion for a notification: the offline decision line and the report linked from it, the shadow verdict, who may decide. */
export function promotionEvidence(offlineSummary: string, shadowVerdict: string, approvers: readonly string[]): Pick<NotificationEvent, 'evidence' | 'links'> {
  const firstLine = offlineSummary.split('\n').find((line) => line.trim() !== '') ?? '';
  const report = /\]\((https?:\/\/[^)\s]+)\)/.exec(offlineSummary)?.[1] ?? null;
  return {
    evidence: { offline: firstLine.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').trim() || null, shadow: shadowVerdict || null, approvers: [...approvers] },
    links: { report },
  };
}
