/**
 * `POST /v1/labeling/label-studio/webhook`: where Label Studio's ANNOTATION_CREATED and
 * ANNOTATION_UPDATED webhooks arrive. The request must carry the shared secret in
 * `X-Retrain-Webhook-Secret` (compared in constant time; 401 otherwise), its JSON is parsed with
 * zod (400 naming the field), and the labelingHandoff runs waiting for the annotated task are
 * signalled to read their batch now (200, naming them). A webhook about anything else is
 * answered 200 `ignored` with why: Label Studio never retries a webhook, and the run's poll
 * reads the batch anyway, so an answer that is not 2xx helps nobody but the logs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { findOpenBatchesOfTasks } from '../lib/db/repositories/label-batches';
import type { Database } from '../lib/db/schema';
import { WEBHOOK_SECRET_HEADER } from '../lib/labeling/label-studio-handoff';
import { LabelStudioWebhookPayload, webhookSubject } from '../lib/labeling/webhook-payload';
import type { LabelsChangedSignal } from '../workflows/definitions';
import { GatewayRequestError } from './request-error';

export const LABELING_WEBHOOK_PATH = '/v1/labeling/label-studio/webhook';

export interface LabelingWebhookOptions {
  /** The shared secret (RETRAIN_LABELING_WEBHOOK_SECRET). */
  secret: string;
  /** Signals one waiting run; a run that ended (not found) resolves `false`. */
  signal(workflowId: string, signal: LabelsChangedSignal): Promise<boolean>;
}

export function registerLabelingWebhookRoute(app: FastifyInstance, deps: { db: Kysely<Database>; log: Logger; webhook: LabelingWebhookOptions }): void {
  const expected = createHash('sha256').update(deps.webhook.secret).digest();
  app.post(LABELING_WEBHOOK_PATH, async (request) => {
    const sent = request.headers[WEBHOOK_SECRET_HEADER];
    const given = createHash('sha256').update(typeof sent === 'string' ? sent : '').digest();
    if (typeof sent !== 'string' || !timingSafeEqual(given, expected)) {
      throw new GatewayRequestError(401, 'invalid_webhook_secret', `${sent === undefined ? 'no' : 'a wrong'} ${WEBHOOK_SECRET_HEADER} header: the webhook must carry the secret configured as RETRAIN_LABELING_WEBHOOK_SECRET (Retrain registers it with the project's webhook)`);
    }
    const parsed = LabelStudioWebhookPayload.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || undefined;
      throw new GatewayRequestError(400, 'invalid_body', `not a Label Studio webhook: ${field ?? '(body)'}: ${issue.message}`, { field });
    }
    const subject = webhookSubject(parsed.data);
    if ('ignored' in subject) return { status: 'ignored', reason: subject.ignored };
    const batches = await findOpenBatchesOfTasks(deps.db, subject.projectId, [subject.taskId]).catch((err: unknown) => {
      throw new GatewayRequestError(503, 'database_unavailable', `cannot look up the batch of task ${subject.taskId}: ${(err as Error).message}`, { retryAfterSeconds: 5 });
    });
    if (batches.length === 0) return { status: 'ignored', reason: `no open labeling batch has task ${subject.taskId} of project ${subject.projectId}` };
    const signalled: string[] = [];
    for (const { workflowId } of batches) {
      try {
        if (await deps.webhook.signal(workflowId, { source: 'webhook', taskId: subject.taskId })) signalled.push(workflowId);
      } catch (err) {
        deps.log.warn({ err, workflowId }, 'could not signal a labeling run; its poll will read the batch');
        throw new GatewayRequestError(503, 'temporal_unavailable', `could not signal ${workflowId}: ${(err as Error).message}; its poll reads the batch anyway`, { retryAfterSeconds: 5 });
      }
    }
    deps.log.info({ action: parsed.data.action, projectId: subject.projectId, taskId: subject.taskId, signalled }, 'labeling webhook');
    return { status: 'signalled', workflows: signalled };
  });
}
