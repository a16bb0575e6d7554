import type { Kysely } from 'kysely';
import type { LabelStudioClient } from '../clients/label-studio-client';
import { annotatorOf, type LabelStudioExportTask } from '../clients/label-studio-export-format';
import { getLabelBatch, listBatchLabels, listLabelItems, saveBatchResolution, upsertLabels, type LabelBatch, type NewLabel } from '../db/repositories/label-batches';
import type { Database, LabelSource } from '../db/schema';
import { resolveBatch, type BatchAgreement, type ItemResolution } from '../policy/label-resolution';
import { chosenClass } from './labeling-config';

/** How far a batch is, as the workflow decides on it and shows it. Bounded: at most 50 conflicts listed. */
export interface LabelBatchProgress {
  batchId: string;
  items: number;
  /** Items with a label to train on. */
  labeled: number;
  pending: number;
  conflicts: number;
  unresolved: number;
  /** Items sent back for review, waiting for one more annotation (rule review). */
  review: number;
  /** Items tied under rule majority: reported, not trained on; no further annotation is awaited. */
  ties: number;
  /** Annotations stored (one per annotator and item). */
  annotations: number;
  /** Labels this call stored or changed. */
  changed: number;
  /** Annotations that could not be read (skipped, no choice, a class the model does not have), with why. */
  unreadable: { taskId: number; annotationId: number; problem: string }[];
  agreement: BatchAgreement;
  conflictItems: { itemId: string; taskId: number | null; votes: number[]; resolution: ItemResolution }[];
}

/** Reads the batch's labels, resolves every item by the batch's rule and records the resolution. */
export async function recordBatchResolution(db: Kysely<Database>, batchId: string, extra: { changed?: number; unreadable?: LabelBatchProgress['unreadable'] } = {}): Promise<LabelBatchProgress> {
  const batch = await getLabelBatch(db, batchId);
  const items = await listLabelItems(db, batchId);
  const labels = await listBatchLabels(db, batchId);
  const byItem = new Map<string, { annotator: string; value: number }[]>();
  for (const l of labels) byItem.set(l.itemId, [...(byItem.get(l.itemId) ?? []), { annotator: l.annotator, value: l.value }]);
  const resolution = resolveBatch(
    items.map((i) => ({ itemId: i.id, annotations: byItem.get(i.id) ?? [] })),
    { rule: batch.conflictRule, annotatorsPerItem: batch.annotatorsPerItem, classes: batch.classes.length },
  );
  await saveBatchResolution(db, batchId, resolution.resolved, resolution.agreement);
  const taskOf = new Map(items.map((i) => [i.id, i.taskId]));
  return {
    batchId,
    items: resolution.items,
    labeled: resolution.labeled,
    pending: resolution.pending,
    conflicts: resolution.conflicts,
    unresolved: resolution.unresolved,
    review: resolution.resolved.filter((r) => r.resolution === 'review').length,
    ties: resolution.resolved.filter((r) => r.resolution === 'tie').length,
    annotations: labels.length,
    changed: extra.changed ?? 0,
    unreadable: (extra.unreadable ?? []).slice(0, 20),
    agreement: resolution.agreement,
    conflictItems: resolution.resolved
      .filter((r) => r.resolution === 'majority' || r.resolution === 'review' || r.resolution === 'tie')
      .slice(0, 50)
      .map((r) => ({ itemId: r.itemId, taskId: taskOf.get(r.itemId) ?? null, votes: r.votes, resolution: r.resolution })),
  };
}

/**
 * The labels of Label Studio tasks (export format) for a batch's items: one per annotator and
 * item, the annotator's newest non-skipped annotation. Annotations that cannot be read are
 * returned with the reason instead of being guessed at.
 */
export function labelsOfTasks(
  tasks: readonly LabelStudioExportTask[],
  itemOfTask: (task: LabelStudioExportTask) => string | undefined,
  batch: Pick<LabelBatch, 'classes'>,
  source: LabelSource,
): { labels: NewLabel[]; unreadable: LabelBatchProgress['unreadable'] } {
  const newest = new Map<string, NewLabel>();
  const unreadable: LabelBatchProgress['unreadable'] = [];
  for (const task of tasks) {
    const itemId = itemOfTask(task);
    if (itemId === undefined) continue;
    for (const annotation of task.annotations) {
      if (annotation.was_cancelled) {
        unreadable.push({ taskId: task.id, annotationId: annotation.id, problem: 'skipped by the annotator' });
        continue;
      }
      let value: number | null;
      try {
        value = chosenClass(annotation.result, batch.classes);
      } catch (err) {
        unreadable.push({ taskId: task.id, annotationId: annotation.id, problem: (err as Error).message });
        continue;
      }
      if (value === null) {
        unreadable.push({ taskId: task.id, annotationId: annotation.id, problem: 'chose no class' });
        continue;
      }
      const annotator = annotatorOf(annotation);
      const labeledAt = new Date(annotation.updated_at ?? annotation.created_at);
      const key = `${itemId}/${annotator}`;
      const before = newest.get(key);
      if (!before || before.labeledAt < labeledAt) newest.set(key, { itemId, value, annotator, annotationId: String(annotation.id), labeledAt, source });
    }
  }
  return { labels: [...newest.values()], unreadable };
}

/**
 * Reads the annotations of a batch's tasks from Label Studio, stores them (`source`: webhook when
 * a webhook's signal asked for this read, poll otherwise), resolves the batch, and marks items
 * sent back for review in Label Studio (their task's meta), once each.
 */
export async function syncBatchFromLabelStudio(deps: { db: Kysely<Database>; labelStudio: LabelStudioClient }, input: { batchId: string; source: 'webhook' | 'poll' }): Promise<LabelBatchProgress> {
  const batch = await getLabelBatch(deps.db, input.batchId);
  if (batch.projectId === null) throw new Error(`label batch ${batch.id} was not sent to Label Studio yet`);
  const items = await listLabelItems(deps.db, batch.id);
  const itemOfTaskId = new Map(items.filter((i) => i.taskId !== null).map((i) => [i.taskId!, i.id]));
  const tasks = await deps.labelStudio.exportTasks(batch.projectId, { taskIds: [...itemOfTaskId.keys()], onlyAnnotated: true });
  const { labels, unreadable } = labelsOfTasks(tasks, (t) => itemOfTaskId.get(t.id), batch, input.source);
  const changed = await upsertLabels(deps.db, labels, batch.id);
  const reviewedBefore = new Set(items.filter((i) => i.resolution === 'review').map((i) => i.id));
  const progress = await recordBatchResolution(deps.db, batch.id, { changed, unreadable });
  for (const item of progress.conflictItems) {
    if (item.resolution === 'review' && !reviewedBefore.has(item.itemId) && item.taskId !== null) {
      await deps.labelStudio.setTaskMeta(item.taskId, { retrain: `sent back for review: annotators disagree (votes per class ${item.votes.join('/')}); one more annotation decides` });
    }
  }
  return progress;
}
