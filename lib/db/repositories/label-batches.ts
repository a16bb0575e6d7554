import { sql } from 'kysely';
import type { DbExecutor } from '../executor';
import { inTransaction } from '../in-transaction';
import type { LabelBatchStatus, LabelItemResolution, LabelSource } from '../schema';

/**
 * Labeling batches, their items and the annotators' labels (migration 2026-12-01-0601). Writes are
 * idempotent: a batch is keyed by the labelingHandoff workflow id, an item by (batch, row key), a
 * label by (item, annotator), so a retried activity or a webhook and a poll reporting the same
 * annotation change nothing twice.
 */

export interface LabelBatch {
  id: string;
  model: string;
  workflowId: string;
  pipelineWorkflowId: string;
  day: string;
  datasetId: string;
  championVersionId: string | null;
  classes: { value: number; name: string }[];
  annotatorsPerItem: number;
  conflictRule: 'majority' | 'review';
  selection: unknown;
  status: LabelBatchStatus;
  statusReason: string | null;
  projectId: number | null;
  tasksKey: string | null;
  agreement: unknown;
  createdAt: Date;
  closedAt: Date | null;
}

export interface LabelItem {
  id: string;
  batchId: string;
  rowKey: string;
  rowIndex: number;
  reason: 'uncertainty' | 'random';
  margin: number | null;
  probabilities: number[] | null;
  taskId: number | null;
  resolution: LabelItemResolution | null;
  value: number | null;
}

export type NewLabelBatch = Omit<LabelBatch, 'id' | 'status' | 'statusReason' | 'projectId' | 'tasksKey' | 'agreement' | 'createdAt' | 'closedAt'>;
export type NewLabelItem = Omit<LabelItem, 'id' | 'batchId' | 'taskId' | 'resolution' | 'value'>;

export interface NewLabel {
  itemId: string;
  value: number;
  annotator: string;
  annotationId: string | null;
  labeledAt: Date;
  source: LabelSource;
}

type BatchRow = {
  id: string;
  model: string;
  workflow_id: string;
  pipeline_workflow_id: string;
  day: string;
  dataset_id: string;
  champion_version_id: string | null;
  classes: unknown;
  annotators_per_item: number;
  conflict_rule: 'majority' | 'review';
  selection: unknown;
  status: LabelBatchStatus;
  status_reason: string | null;
  project_id: number | null;
  tasks_key: string | null;
  agreement: unknown;
  created_at: Date;
  closed_at: Date | null;
};

function toBatch(row: BatchRow): LabelBatch {
  return {
    id: row.id,
    model: row.model,
    workflowId: row.workflow_id,
    pipelineWorkflowId: row.pipeline_workflow_id,
    day: row.day,
    datasetId: row.dataset_id,
    championVersionId: row.champion_version_id,
    classes: row.classes as LabelBatch['classes'],
    annotatorsPerItem: row.annotators_per_item,
    conflictRule: row.conflict_rule,
    selection: row.selection,
    status: row.status,
    statusReason: row.status_reason,
    projectId: row.project_id,
    tasksKey: row.tasks_key,
    agreement: row.agreement,
    createdAt: row.created_at,
    closedAt: row.closed_at,
  };
}

/**
 * Records a batch and its items in one transaction, once per workflow id: a second call (a retried
 * activity) returns the batch the first one recorded, with `created: false`, and records nothing.
 */
export async function createLabelBatch(db: DbExecutor, batch: NewLabelBatch, items: readonly NewLabelItem[]): Promise<{ batch: LabelBatch; created: boolean }> {
  const write = async (trx: DbExecutor) => {
    const inserted = await trx
      .insertInto('label_batches')
      .values({
        model: batch.model,
        workflow_id: batch.workflowId,
        pipeline_workflow_id: batch.pipelineWorkflowId,
        day: batch.day,
        dataset_id: batch.datasetId,
        champion_version_id: batch.championVersionId,
        classes: JSON.stringify(batch.classes),
        annotators_per_item: batch.annotatorsPerItem,
        conflict_rule: batch.conflictRule,
        selection: JSON.stringify(batch.selection),
      })
      .onConflict((oc) => oc.column('workflow_id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) return { batch: await getLabelBatchByWorkflow(trx, batch.workflowId), created: false };
    // Chunks keep each insert well under Postgres' 65535 parameters.
    for (let i = 0; i < items.length; i += 1000) {
      await trx
        .insertInto('label_items')
        .values(
          items.slice(i, i + 1000).map((item) => ({
            batch_id: inserted.id,
            row_key: item.rowKey,
            row_index: item.rowIndex,
            reason: item.reason,
            margin: item.margin,
            probabilities: item.probabilities ? JSON.stringify(item.probabilities) : null,
          })),
        )
        .execute();
    }
    return { batch: toBatch(inserted as BatchRow), created: true };
  };
  return inTransaction(db, write);
}

export async function getLabelBatch(db: DbExecutor, id: string): Promise<LabelBatch> {
  const row = await db.selectFrom('label_batches').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new Error(`label batch ${id} does not exist`);
  return toBatch(row as BatchRow);
}

export async function getLabelBatchByWorkflow(db: DbExecutor, workflowId: string): Promise<LabelBatch> {
  const row = await db.selectFrom('label_batches').selectAll().where('workflow_id', '=', workflowId).executeTakeFirst();
  if (!row) throw new Error(`no label batch was recorded by workflow ${workflowId}`);
  return toBatch(row as BatchRow);
}

export async function listLabelBatches(db: DbExecutor, model: string): Promise<LabelBatch[]> {
  const rows = await db.selectFrom('label_batches').selectAll().where('model', '=', model).orderBy('id').execute();
  return rows.map((r) => toBatch(r as BatchRow));
}

export async function listLabelItems(db: DbExecutor, batchId: string): Promise<LabelItem[]> {
  const rows = await db.selectFrom('label_items').selectAll().where('batch_id', '=', batchId).orderBy('id').execute();
  return rows.map((row) => ({
    id: row.id,
    batchId: row.batch_id,
    rowKey: row.row_key,
    rowIndex: row.row_index,
    reason: row.reason,
    margin: row.margin,
    probabilities: row.probabilities as number[] | null,
    taskId: row.task_id,
    resolution: row.resolution,
    value: row.value,
  }));
}

/** Where the batch went in Label Studio, and the tasks file kept in the store. */
export async function setLabelBatchProject(db: DbExecutor, batchId: string, projectId: number | null, tasksKey: string): Promise<void> {
  await db.updateTable('label_batches').set({ project_id: projectId, tasks_key: tasksKey }).where('id', '=', batchId).execute();
}

export async function setLabelItemTasks(db: DbExecutor, tasks: readonly { itemId: string; taskId: number }[]): Promise<void> {
  for (const { itemId, taskId } of tasks) {
    await db.updateTable('label_items').set({ task_id: taskId }).where('id', '=', itemId).execute();
  }
}

/**
 * Stores labels; an annotator's answer for an item replaces the one stored only when it is newer
 * (an updated annotation), so a poll that reads an older copy after a webhook changes nothing.
 * Returns how many rows were inserted or changed.
 */
export async function upsertLabels(db: DbExecutor, labels: readonly NewLabel[], batchId: string): Promise<number> {
  let changed = 0;
  for (let i = 0; i < labels.length; i += 500) {
    const result = await db
      .insertInto('labels')
      .values(
        labels.slice(i, i + 500).map((l) => ({
          batch_id: batchId,
          item_id: l.itemId,
          value: l.value,
          annotator: l.annotator,
          annotation_id: l.annotationId,
          labeled_at: l.labeledAt,
          source: l.source,
        })),
      )
      .onConflict((oc) =>
        oc
          .constraint('labels_item_annotator_unique')
          .doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            annotation_id: eb.ref('excluded.annotation_id'),
            labeled_at: eb.ref('excluded.labeled_at'),
            source: eb.ref('excluded.source'),
            updated_at: sql<Date>`now()`,
          }))
          .where(sql<boolean>`labels.labeled_at < excluded.labeled_at or labels.value <> excluded.value and labels.labeled_at = excluded.labeled_at`),
      )
      .executeTakeFirst();
    changed += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return changed;
}

export interface StoredLabel {
  itemId: string;
  value: number;
  annotator: string;
  labeledAt: Date;
  source: LabelSource;
}

export async function listBatchLabels(db: DbExecutor, batchId: string): Promise<StoredLabel[]> {
  const rows = await db.selectFrom('labels').select(['item_id', 'value', 'annotator', 'labeled_at', 'source']).where('batch_id', '=', batchId).orderBy('id').execute();
  return rows.map((r) => ({ itemId: r.item_id, value: r.value, annotator: r.annotator, labeledAt: r.labeled_at, source: r.source }));
}

/** Records each item's resolution (lib/policy/label-resolution.ts) and the batch's agreement report. */
export async function saveBatchResolution(
  db: DbExecutor,
  batchId: string,
  items: readonly { itemId: string; resolution: LabelItemResolution; value: number | null; agreement: number | null }[],
  agreement: unknown,
): Promise<void> {
  for (const item of items) {
    await db
      .updateTable('label_items')
      .set({ resolution: item.resolution, value: item.value, agreement: item.agreement })
      .where('id', '=', item.itemId)
      .where('batch_id', '=', batchId)
      .execute();
  }
  await db.updateTable('label_batches').set({ agreement: JSON.stringify(agreement) }).where('id', '=', batchId).execute();
}

/** Ends a batch's wait (once: a closed batch keeps its first status). */
export async function closeLabelBatch(db: DbExecutor, batchId: string, status: Exclude<LabelBatchStatus, 'open'>, reason: string): Promise<LabelBatch> {
  await db
    .updateTable('label_batches')
    .set({ status, status_reason: reason, closed_at: sql<Date>`now()` })
    .where('id', '=', batchId)
    .where('status', '=', 'open')
    .execute();
  return getLabelBatch(db, batchId);
}

/** The open batches a Label Studio project's task belongs to, with the workflow waiting for each. */
export async function findOpenBatchesOfTasks(db: DbExecutor, projectId: number, taskIds: readonly number[]): Promise<{ batchId: string; workflowId: string }[]> {
  if (taskIds.length === 0) return [];
  const rows = await db
    .selectFrom('label_items')
    .innerJoin('label_batches', 'label_batches.id', 'label_items.batch_id')
    .select(['label_batches.id as batchId', 'label_batches.workflow_id as workflowId'])
    .where('label_batches.project_id', '=', projectId)
    .where('label_batches.status', '=', 'open')
    .where('label_items.task_id', 'in', [...taskIds])
    .distinct()
    .execute();
  return rows;
}

/** Items by id with their batch, for labels imported from a file. */
export async function findLabelItems(db: DbExecutor, itemIds: readonly string[]): Promise<{ itemId: string; batchId: string; workflowId: string; status: LabelBatchStatus; classes: number }[]> {
  if (itemIds.length === 0) return [];
  const rows = await db
    .selectFrom('label_items')
    .innerJoin('label_batches', 'label_batches.id', 'label_items.batch_id')
    .select(['label_items.id as itemId', 'label_batches.id as batchId', 'label_batches.workflow_id as workflowId', 'label_batches.status as status', 'label_batches.classes as classes'])
    .where('label_items.id', 'in', [...itemIds])
    .execute();
  return rows.map((r) => ({ ...r, classes: (r.classes as unknown[]).length }));
}

/**
 * The labels training uses: each resolved item (unanimous or majority) of the given batches, by
 * dataset and row key. Items that are pending, tied or waiting for review are not among them.
 */
export async function listResolvedLabels(db: DbExecutor, batchIds: readonly string[]): Promise<{ datasetId: string; rowKey: string; value: number }[]> {
  if (batchIds.length === 0) return [];
  const rows = await db
    .selectFrom('label_items')
    .innerJoin('label_batches', 'label_batches.id', 'label_items.batch_id')
    .select(['label_batches.dataset_id as datasetId', 'label_items.row_key as rowKey', 'label_items.value as value'])
    .where('label_items.batch_id', 'in', [...batchIds])
    .where('label_items.resolution', 'in', ['unanimous', 'majority'])
    .where('label_items.value', 'is not', null)
    .orderBy('label_items.id')
    .execute();
  return rows.map((r) => ({ datasetId: r.datasetId, rowKey: r.rowKey, value: r.value! }));
}

/**
 * Items of a model's open batches that still wait for people: not enough annotators yet, or sent
 * back for review. The "labels pending" gauge of /metrics reads this.
 */
export async function countPendingLabels(db: DbExecutor, model: string): Promise<number> {
  const row = await db
    .selectFrom('label_items')
    .innerJoin('label_batches', 'label_batches.id', 'label_items.batch_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('label_batches.model', '=', model)
    .where('label_batches.status', '=', 'open')
    .where((eb) => eb.or([eb('label_items.resolution', 'is', null), eb('label_items.resolution', 'in', ['pending', 'review'])]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
