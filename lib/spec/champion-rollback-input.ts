import { z } from 'zod';

/**
 * The rollbackChampion workflow's input (workflows/rollback-champion.ts), checked at its start so
 * that a request typed into the Temporal UI's "Start Workflow" form fails at once naming the
 * field. Workflow-safe: zod only.
 */
export const RollbackChampionInputSchema = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a model name (kebab-case)'),
  /** The archived version to restore; omitted: the champion the current one replaced. */
  toVersion: z.number().int().positive('must be a version number (1, 2, ...)').optional(),
  approver: z.string().trim().min(1, 'must name who asks (one of the model\'s approvers)').max(100, 'must be at most 100 characters'),
  reason: z.string().trim().min(1, 'must say why, for the record').max(2000, 'must be at most 2000 characters'),
});
