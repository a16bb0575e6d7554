import { z } from 'zod';
import { CalendarDay } from './calendar-day';
import { CanarySpec, ModelSpec, ShadowSpec } from './model-spec';

/**
 * What each workflow accepts as input, checked at the start of the run
 * (workflows/workflow-input.ts) so that bad input fails the run at once with the
 * field named, instead of failing deep inside it. The payload types themselves are
 * in workflows/definitions.ts; these schemas must accept every value of them.
 * Workflow-safe: zod and pure functions only.
 */

/** Postgres bigserial ids travel as strings of digits. */
const rowId = (what: string) => z.string().regex(/^[1-9][0-9]*$/, `must be a ${what} id (digits)`);
const ModelVersionId = rowId('model version');
const versionNumber = z.number().int().positive();

export const RetrainingPipelineInputSchema = z.object({
  spec: ModelSpec,
  day: CalendarDay,
  breakingChange: z.boolean().optional(),
});

export const LabelingHandoffInputSchema = z.object({
  spec: ModelSpec.refine((spec) => spec.labels !== undefined, 'the spec has no labels block: labelingHandoff runs only for models labeled by people'),
  day: CalendarDay,
  datasetId: rowId('dataset'),
  championVersionId: ModelVersionId.nullable(),
  pipelineWorkflowId: z.string().min(1),
  resume: z
    .object({
      batch: z.object({
        batchId: rowId('label batch'),
        items: z.number().int().nonnegative(),
        uncertainty: z.number().int().nonnegative(),
        random: z.number().int().nonnegative(),
        ranked: z.boolean(),
        marginCutoff: z.number().nullable(),
        tasksKey: z.string().min(1),
        projectId: z.number().int().positive().nullable(),
      }),
      waitStartedAt: z.number(),
      escalations: z.number().int().nonnegative(),
      reminders: z.number().int().nonnegative(),
    })
    .optional(),
});

export const ShadowEvaluationInputSchema = z.object({
  model: z.string().min(1),
  candidateVersionId: ModelVersionId,
  candidateVersion: versionNumber,
  championVersionId: ModelVersionId,
  championVersion: versionNumber,
  holdoutDatasetId: rowId('dataset'),
  spec: ShadowSpec,
});

export const CanaryRolloutInputSchema = z.object({
  model: z.string().min(1),
  candidateVersionId: ModelVersionId,
  candidateVersion: versionNumber,
  championVersionId: ModelVersionId,
  championVersion: versionNumber,
  approvers: z.array(z.string().min(1)).min(1),
  spec: CanarySpec,
});

const isoInstant = z.string().refine((v) => !Number.isNaN(Date.parse(v)) && /T/.test(v), 'must be an ISO timestamp, e.g. 2026-12-01T19:00:00Z');

export const DriftMonitorInputSchema = z.object({
  spec: ModelSpec,
  windowEnd: isoInstant.optional(),
  windowStart: isoInstant.optional(),
});
