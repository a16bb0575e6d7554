import { z } from 'zod';

/**
 * The parts of a Label Studio webhook Retrain reads (ANNOTATION_CREATED, ANNOTATION_UPDATED): the
 * action, the project, and the task the annotation belongs to. The annotation itself is read
 * again from Label Studio by the batch's sync, so a webhook only says "look now"; a forged one
 * (past the shared secret) can make Retrain look, never store a label.
 */
export const LABEL_STUDIO_WEBHOOK_ACTIONS = ['ANNOTATION_CREATED', 'ANNOTATION_UPDATED'] as const;

const Id = z.number().int().positive();

export const LabelStudioWebhookPayload = z.object({
  action: z.string().min(1),
  project: z.object({ id: Id }).optional(),
  task: z.object({ id: Id, project: Id.optional() }).optional(),
  annotation: z.object({ id: Id, task: Id.optional(), project: Id.optional() }).optional(),
});
export type LabelStudioWebhookPayload = z.infer<typeof LabelStudioWebhookPayload>;

/** The project and task a webhook is about, or why it is not about an annotation Retrain waits for. */
export function webhookSubject(payload: LabelStudioWebhookPayload): { projectId: number; taskId: number } | { ignored: string } {
  if (!(LABEL_STUDIO_WEBHOOK_ACTIONS as readonly string[]).includes(payload.action)) return { ignored: `action ${payload.action} is not one Retrain listens to (${LABEL_STUDIO_WEBHOOK_ACTIONS.join(', ')})` };
  const projectId = payload.project?.id ?? payload.annotation?.project ?? payload.task?.project;
  const taskId = payload.annotation?.task ?? payload.task?.id;
  if (projectId === undefined || taskId === undefined) return { ignored: 'the payload names no project or task (is "send payload" off for this webhook?)' };
  return { projectId, taskId };
}
