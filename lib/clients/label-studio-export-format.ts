import { z } from 'zod';

/**
 * Label Studio's JSON export of tasks (Export → JSON, or GET /api/projects/<id>/export?exportType=JSON),
 * the parts Retrain reads: the task's id and data (Retrain's tasks carry `retrain_item`), and each
 * annotation's id, annotator, result, whether it was skipped, and when it was made or last changed.
 * Parsed where it enters: the poll reads it from the API, `retrain labels import` from a file.
 * Unknown fields are ignored (the export carries many); a missing or mistyped field Retrain reads
 * is refused with its path.
 */

/** The annotator: an id, or the user object an expanded export writes. */
const CompletedBy = z.union([z.number().int(), z.object({ id: z.number().int(), email: z.string().optional() })]);

const ChoiceResult = z.object({
  from_name: z.string(),
  to_name: z.string().optional(),
  type: z.string(),
  value: z.object({ choices: z.array(z.string()).optional() }).loose(),
});

export const LabelStudioExportAnnotation = z.object({
  id: z.number().int(),
  completed_by: CompletedBy,
  result: z.array(ChoiceResult.loose()).default([]),
  was_cancelled: z.boolean().default(false),
  created_at: z.string(),
  updated_at: z.string().nullable().optional(),
});
export type LabelStudioExportAnnotation = z.infer<typeof LabelStudioExportAnnotation>;

export const LabelStudioExportTask = z.object({
  id: z.number().int(),
  data: z.record(z.string(), z.unknown()),
  annotations: z.array(LabelStudioExportAnnotation.loose()).default([]),
});
export type LabelStudioExportTask = z.infer<typeof LabelStudioExportTask>;

export const LabelStudioExportFile = z.array(LabelStudioExportTask.loose());

/** The annotator's id, the same whichever way the export writes it (webhook, API and file agree on it). */
export function annotatorOf(annotation: Pick<LabelStudioExportAnnotation, 'completed_by'>): string {
  const id = typeof annotation.completed_by === 'number' ? annotation.completed_by : annotation.completed_by.id;
  return `label-studio-user-${id}`;
}
