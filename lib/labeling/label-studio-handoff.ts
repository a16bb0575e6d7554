import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { LabelStudioClient, LabelStudioTaskInput } from '../clients/label-studio-client';
import { getLabelBatch, listLabelItems, setLabelBatchProject, setLabelItemTasks } from '../db/repositories/label-batches';
import type { Database } from '../db/schema';
import { labelingProjectTitle, type LabelingSpec } from '../spec/labeling-spec';
import type { ArtifactStore } from '../store/artifact-store';
import { labelingConfig } from './labeling-config';
import { LABEL_STUDIO_WEBHOOK_ACTIONS } from './webhook-payload';

/** The header Label Studio sends with each webhook, holding the shared secret Retrain checks. */
export const WEBHOOK_SECRET_HEADER = 'x-retrain-webhook-secret';

/** Where Label Studio's webhooks should go, and the secret they carry; null: no webhook (the poll alone). */
export interface LabelingWebhookTarget {
  url: string;
  secret: string;
}

export interface LabelStudioHandoffDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  labelStudio: LabelStudioClient;
  webhook: LabelingWebhookTarget | null;
}

export interface LabelStudioHandoff {
  projectId: number;
  projectCreated: boolean;
  imported: number;
  /** Tasks found already imported (an earlier attempt's import whose ids were not recorded). */
  alreadyImported: number;
  webhook: 'created' | 'updated' | 'kept' | 'none';
}

const TaskFile = z.array(z.object({ data: z.record(z.string(), z.unknown()), predictions: z.array(z.any()).optional() }).loose());

/**
 * Sends a recorded batch to the model's Label Studio project: the project (labeling config from
 * the classes) is created when no project has its title, else reused; its webhook to Retrain is
 * created or pointed at the current URL and secret; the tasks not yet in the project are imported
 * and their ids recorded. Idempotent: tasks are matched by their `retrain_item`, so a retry after
 * an import whose ids were lost finds them instead of importing them twice.
 */
export async function sendBatchToLabelStudio(deps: LabelStudioHandoffDeps, input: { batchId: string; model: string; labels: LabelingSpec }): Promise<LabelStudioHandoff> {
  const { labelStudio } = deps;
  const batch = await getLabelBatch(deps.db, input.batchId);
  if (!batch.tasksKey) throw new Error(`label batch ${batch.id} has no tasks file: prepareLabelBatch did not finish`);
  const title = labelingProjectTitle(input.model, input.labels);
  const config = labelingConfig(input.labels.classes);
  let project = batch.projectId !== null ? { id: batch.projectId } : await labelStudio.findProjectByTitle(title);
  const projectCreated = !project;
  project ??= await labelStudio.createProject({
    title,
    description: `Rows of ${input.model} chosen by Retrain for labeling (by the champion's uncertainty, plus a random share). Choose the class of each row.`,
    label_config: config,
  });
  await setLabelBatchProject(deps.db, batch.id, project.id, batch.tasksKey);

  const webhook = deps.webhook ? await ensureWebhook(labelStudio, project.id, deps.webhook) : 'none';

  const items = await listLabelItems(deps.db, batch.id);
  const missing = items.filter((i) => i.taskId === null);
  let alreadyImported = 0;
  let imported = 0;
  if (missing.length > 0) {
    // Tasks an earlier attempt imported (its ids unrecorded) are found by the item id they carry.
    const existing = new Map<string, number>();
    for (const task of await labelStudio.exportTasks(project.id, { onlyAnnotated: false })) {
      const item = task.data.retrain_item;
      if (typeof item === 'string') existing.set(item, task.id);
    }
    const found = missing.filter((i) => existing.has(i.id)).map((i) => ({ itemId: i.id, taskId: existing.get(i.id)! }));
    await setLabelItemTasks(deps.db, found);
    alreadyImported = found.length;
    const toImport = missing.filter((i) => !existing.has(i.id));
    if (toImport.length > 0) {
      const file = TaskFile.parse(JSON.parse(Buffer.from(await deps.store.getBytes({ key: batch.tasksKey, sha256: sha256OfKey(batch.tasksKey) })).toString('utf8')));
      const byItem = new Map(file.map((t) => [String(t.data.retrain_item), t as LabelStudioTaskInput]));
      const tasks = toImport.map((i) => {
        const task = byItem.get(i.id);
        if (!task) throw new Error(`the tasks file of label batch ${batch.id} has no task for item ${i.id}`);
        return task;
      });
      const ids = await labelStudio.importTasks(project.id, tasks);
      await setLabelItemTasks(deps.db, toImport.map((i, k) => ({ itemId: i.id, taskId: ids[k]! })));
      imported = ids.length;
    }
  }
  return { projectId: project.id, projectCreated, imported, alreadyImported, webhook };
}

async function ensureWebhook(labelStudio: LabelStudioClient, projectId: number, target: LabelingWebhookTarget): Promise<'created' | 'updated' | 'kept'> {
  const hooks = await labelStudio.listWebhooks(projectId);
  const actions = [...LABEL_STUDIO_WEBHOOK_ACTIONS];
  const headers = { [WEBHOOK_SECRET_HEADER]: target.secret };
  const ours = hooks.find((h) => h.project === projectId && (h.url === target.url || (h.headers && WEBHOOK_SECRET_HEADER in h.headers)));
  if (!ours) {
    await labelStudio.createWebhook({ project: projectId, url: target.url, headers, actions });
    return 'created';
  }
  const same = ours.url === target.url && ours.is_active !== false && ours.headers?.[WEBHOOK_SECRET_HEADER] === target.secret && actions.every((a) => ours.actions?.includes(a));
  if (same) return 'kept';
  await labelStudio.updateWebhook(ours.id, { url: target.url, headers, actions });
  return 'updated';
}

/** The store's keys end in `<sha256>.<ext>` (ArtifactStore.keyFor). */
export function sha256OfKey(key: string): string {
  const name = key.split('/').pop() ?? '';
  const sha = name.split('.')[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new Error(`artifact key ${key} does not end in its sha256`);
  return sha;
}
