import { activityInfo, sleep } from '@temporalio/activity';
import { deliverNotification, type NotificationOutcome } from '../lib/notification/notification-delivery';
import type { NotificationEvent } from '../lib/notification/notification-event';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

export function createNotificationActivities({ db, notifier }: Pick<ActivityDeps, 'db' | 'notifier'>) {
  return {
    /**
     * Tells every configured webhook about a promotion event, with the run's Temporal UI link.
     * Retries with backoff happen here, each attempt recorded in `notifications`; a delivery
     * that finally fails is returned as failed, never thrown, so it cannot fail the run (the
     * workflow also ignores this activity's own failure). Heartbeats while it waits.
     */
    async sendNotification(event: NotificationEvent): Promise<NotificationOutcome> {
      if (!notifier || notifier.targets.length === 0) return { event: event.event, key: event.key, targets: [] };
      const { workflowExecution, namespace } = activityInfo();
      if (!workflowExecution) throw new Error('sendNotification runs for a workflow: it links the run that sent it');
      const run = { namespace, workflowId: workflowExecution.workflowId, runId: workflowExecution.runId };
      return heartbeatWhile({ step: 'notify', event: event.key }, () => deliverNotification(db, notifier, event, run, { wait: (ms) => sleep(ms) }));
    },
  };
}
