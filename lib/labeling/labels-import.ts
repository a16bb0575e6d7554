import type { Kysely } from 'kysely';
import { z } from 'zod';
import { LabelStudioExportFile, type LabelStudioExportTask } from '../clients/label-studio-export-format';
import { findLabelItems, getLabelBatch, upsertLabels } from '../db/repositories/label-batches';
import type { Database, LabelBatchStatus } from '../db/schema';
import { recordBatchResolution, labelsOfTasks, type LabelBatchProgress } from './label-batch-progress';

export interface LabelsImportResult {
  tasks: number;
  /** Tasks that are items of Retrain's batches (they carry `retrain_item`). */
  matched: number;
  /** Tasks without `retrain_item`, or naming an item this database does not have. */
  unmatched: number;
  batches: { batchId: string; workflowId: string; status: LabelBatchStatus; progress: LabelBatchProgress }[];
}

/**
 * Parses a Label Studio JSON export (the file a team downloads with Export → JSON) and stores the
 * annotations of Retrain's tasks as labels (`source: import`), exactly as the poll would have;
 * each batch touched is resolved again. For teams whose Label Studio cannot reach Retrain: the
 * caller then signals the waiting runs (`retrain labels import` does).
 */
export async function importLabelStudioExport(db: Kysely<Database>, text: string, origin: string): Promise<LabelsImportResult> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${origin} is not JSON (${(err as Error).message}): export the project from Label Studio as JSON (Export → JSON)`, { cause: err });
  }
  const parsed = LabelStudioExportFile.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`${origin} is not a Label Studio JSON export: ${issues.join('; ')}${parsed.error.issues.length > 5 ? `; and ${parsed.error.issues.length - 5} more` : ''}`);
  }
  const tasks = parsed.data;
  const itemIdOf = (task: LabelStudioExportTask): string | undefined => {
    const item = z.union([z.string().regex(/^[1-9][0-9]*$/), z.number().int().positive()]).safeParse(task.data.retrain_item);
    return item.success ? String(item.data) : undefined;
  };
  const known = new Map((await findLabelItems(db, [...new Set(tasks.map(itemIdOf).filter((id): id is string => id !== undefined))])).map((i) => [i.itemId, i]));
  const byBatch = new Map<string, LabelStudioExportTask[]>();
  let matched = 0;
  for (const task of tasks) {
    const item = known.get(itemIdOf(task) ?? '');
    if (!item) continue;
    matched++;
    byBatch.set(item.batchId, [...(byBatch.get(item.batchId) ?? []), task]);
  }
  const batches: LabelsImportResult['batches'] = [];
  for (const [batchId, batchTasks] of byBatch) {
    const batch = await getLabelBatch(db, batchId);
    const { labels, unreadable } = labelsOfTasks(batchTasks, (t) => (known.has(itemIdOf(t) ?? '') ? itemIdOf(t) : undefined), batch, 'import');
    const changed = await upsertLabels(db, labels, batchId);
    const progress = await recordBatchResolution(db, batchId, { changed, unreadable });
    batches.push({ batchId, workflowId: batch.workflowId, status: batch.status, progress });
  }
  return { tasks: tasks.length, matched, unmatched: tasks.length - matched, batches };
}
