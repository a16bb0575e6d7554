import { ApplicationFailure } from '@temporalio/activity';
import { closeLabelBatch } from '../lib/db/repositories/label-batches';
import type { LabelBatchStatus } from '../lib/db/schema';
import { prepareLabelBatch, type LabelBatchPreparationInput, type PreparedLabelBatch } from '../lib/labeling/label-batch-preparation';
import { recordBatchResolution, syncBatchFromLabelStudio, type LabelBatchProgress } from '../lib/labeling/label-batch-progress';
import { sendBatchToLabelStudio, type LabelStudioHandoff } from '../lib/labeling/label-studio-handoff';
import type { LabelingSpec } from '../lib/spec/labeling-spec';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

export type { LabelBatchProgress, PreparedLabelBatch };

/** Where a batch went: a Label Studio project, or (no Label Studio configured) only the tasks file, waiting for `retrain labels import`. */
export type SentLabelBatch = (LabelStudioHandoff & { mode: 'label-studio' }) | { mode: 'file'; projectId: null };

/** The labeling hand-off's Postgres and Label Studio steps (control queue). */
export function createLabelingControlActivities(deps: Pick<ActivityDeps, 'db' | 'store' | 'labeling'>) {
  return {
    /** Creates or reuses the model's project and webhook and imports the batch's tasks (idempotent). */
    async sendLabelBatch(input: { batchId: string; model: string; labels: LabelingSpec }): Promise<SentLabelBatch> {
      const labelStudio = deps.labeling?.labelStudio;
      if (!labelStudio) return { mode: 'file', projectId: null };
      return { mode: 'label-studio', ...(await sendBatchToLabelStudio({ db: deps.db, store: deps.store, labelStudio, webhook: deps.labeling?.webhook ?? null }, input)) };
    },

    /**
     * Reads the batch's annotations from Label Studio (when configured; labels imported from a file
     * are in Postgres already), stores them and resolves the batch.
     */
    async syncLabelBatch(input: { batchId: string; source: 'webhook' | 'poll' }): Promise<LabelBatchProgress> {
      const labelStudio = deps.labeling?.labelStudio;
      if (!labelStudio) return recordBatchResolution(deps.db, input.batchId);
      return heartbeatWhile({ step: 'sync-labels' }, () => syncBatchFromLabelStudio({ db: deps.db, labelStudio }, input));
    },

    /** Ends the batch's wait with how it ended (once). */
    async closeLabelBatch(input: { batchId: string; status: Exclude<LabelBatchStatus, 'open'>; reason: string }): Promise<void> {
      await closeLabelBatch(deps.db, input.batchId, input.status, input.reason);
    },
  };
}

/** Choosing the rows (eval queue: it scores the snapshot with the champion's ONNX model). */
export function createLabelingEvalActivities(deps: Pick<ActivityDeps, 'db' | 'store' | 'workDir' | 'labeling'>) {
  return {
    async prepareLabelBatch(input: LabelBatchPreparationInput): Promise<PreparedLabelBatch> {
      if (!input.spec.labels) throw ApplicationFailure.create({ type: 'InvalidActivityInput', nonRetryable: true, message: `model ${input.spec.name} has no labels block` });
      return heartbeatWhile({ step: 'prepare-label-batch' }, () => prepareLabelBatch(deps, input));
    },
  };
}
