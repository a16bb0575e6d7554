import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { migrateToLatest } from '../../lib/db/migrate';
import { importLabelStudioExport } from '../../lib/labeling/labels-import';
import { labelsChangedSignal } from '../../workflows/definitions';
import { renderTable } from '../runs/version-table';
import { connectToStack } from '../stack/stack-client';

/**
 * `retrain labels import FILE`: a Label Studio JSON export (Export → JSON) for teams whose Label
 * Studio cannot reach Retrain. The annotations of Retrain's tasks (they carry `retrain_item`)
 * are stored as labels, each batch touched is resolved again, and the run waiting for it (if
 * any) is signalled to read its batch now. Prints what was matched, per batch.
 */
export async function labelsImportCommand(env: RetrainEnvironment, file: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  });
  const stack = await connectToStack(env);
  try {
    await migrateToLatest(stack.db);
    const result = await importLabelStudioExport(stack.db, text, path.basename(file));
    const rows: string[][] = [];
    for (const batch of result.batches) {
      let run = 'ended';
      if (batch.status === 'open') {
        try {
          await stack.client.workflow.getHandle(batch.workflowId).signal(labelsChangedSignal, { source: 'import' });
          run = 'signalled';
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          run = 'not running';
        }
      }
      const p = batch.progress;
      rows.push([batch.batchId, batch.workflowId, `${p.labeled}/${p.items}`, String(p.pending), String(p.conflicts), String(p.changed), run]);
    }
    process.stdout.write(`${result.tasks} tasks in ${file}: ${result.matched} of Retrain's batches, ${result.unmatched} not (no retrain_item, or an item this database does not have)\n`);
    if (rows.length > 0) process.stdout.write(`${renderTable(['batch', 'workflow', 'labeled', 'pending', 'conflicts', 'labels stored', 'run'], rows)}\n`);
    for (const batch of result.batches) {
      for (const u of batch.progress.unreadable) process.stdout.write(`batch ${batch.batchId}: task ${u.taskId} annotation ${u.annotationId} not used: ${u.problem}\n`);
    }
  } finally {
    await stack.close();
  }
}
