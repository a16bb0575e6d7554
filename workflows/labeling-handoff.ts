import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  metricMeter,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, EvalActivities } from '../activities';
import type { LabelBatchProgress } from '../activities/labeling';
import { decideLabelingTimeout, labelingComplete } from '../lib/policy/labeling-wait';
import type { LabelingSpec } from '../lib/spec/labeling-spec';
import type { ModelSpec } from '../lib/spec/model-spec';
import { LabelingHandoffInputSchema } from '../lib/spec/workflow-inputs';
import { activityOptions } from './activity-options';
import {
  LABELING_HANDOFF,
  labelingStateQuery,
  labelsChangedSignal,
  taskQueuesFor,
  type LabelingBatchSummary,
  type LabelingHandoffInput,
  type LabelingHandoffResult,
  type LabelingState,
} from './definitions';
import { validateWorkflowInput } from './workflow-input';

/** Events after which a waiting hand-off continues as new (well below Temporal's 50k limit; about 10k polls). */
const CONTINUE_AS_NEW_EVENTS = 40_000;

/**
 * Sends a batch of rows to people and waits for their labels, durably: choose the rows (the
 * champion's least certain plus a seeded random share) and record them, send them to the model's
 * Label Studio project with the champion's predictions as pre-annotations, then wait. Label
 * Studio's webhook reaches Retrain's endpoint, which signals this workflow to read the batch now;
 * a poll every `pollSeconds` reads it anyway, since Label Studio posts each webhook once. While
 * waiting it reminds every `reminderSeconds` (log line, metric, current details); after
 * `timeout.seconds` it escalates and keeps waiting, proceeds with what is labeled (at least
 * `minLabeledFraction`), or fails with a reason. Labels are resolved by the spec's conflict rule;
 * the result says what training will use. Child of retrainingPipeline (`<run id>/labeling`).
 */
export async function labelingHandoff(input: LabelingHandoffInput): Promise<LabelingHandoffResult> {
  validateWorkflowInput(LABELING_HANDOFF, LabelingHandoffInputSchema, input);
  const spec = input.spec as ModelSpec & { labels: LabelingSpec };
  const labels = spec.labels;
  const info = workflowInfo();
  const queues = taskQueuesFor(info.taskQueue);
  const evaluation = proxyActivities<EvalActivities>({ ...activityOptions.evaluation, taskQueue: queues.eval });
  const control = proxyActivities<ControlActivities>({ ...activityOptions.bookkeeping, taskQueue: queues.control });
  const send = proxyActivities<Pick<ControlActivities, 'sendLabelBatch'>>({ ...activityOptions.labelStudioSend, taskQueue: queues.control });
  const sync = proxyActivities<Pick<ControlActivities, 'syncLabelBatch'>>({ ...activityOptions.labelStudioSync, taskQueue: queues.control });
  const reminders = metricMeter.createCounter('retrain_labeling_reminders_total', 'reminders', 'Reminders of labeling batches still waiting for annotations');
  const escalationsCounter = metricMeter.createCounter('retrain_labeling_escalations_total', 'escalations', 'Labeling batches whose timeout escalated');

  const state: LabelingState = { batchId: input.resume?.batch.batchId ?? null, items: 0, labeled: 0, pending: 0, message: 'choosing rows' };
  setHandler(labelingStateQuery, () => state);
  let signals = 0;
  setHandler(labelsChangedSignal, () => {
    signals++;
  });

  let batch: LabelingBatchSummary;
  if (input.resume) {
    batch = input.resume.batch;
  } else {
    const prepared = await evaluation.prepareLabelBatch({
      spec,
      day: input.day,
      datasetId: input.datasetId,
      championVersionId: input.championVersionId,
      workflowId: info.workflowId,
      pipelineWorkflowId: input.pipelineWorkflowId,
    });
    const sent = await send.sendLabelBatch({ batchId: prepared.batchId, model: spec.name, labels });
    batch = {
      batchId: prepared.batchId,
      items: prepared.items,
      uncertainty: prepared.uncertainty,
      random: prepared.random,
      ranked: prepared.ranked,
      marginCutoff: prepared.marginCutoff,
      tasksKey: prepared.tasksKey,
      projectId: sent.projectId,
    };
  }
  state.batchId = batch.batchId;
  const waitStartedAt = input.resume?.waitStartedAt ?? Date.now();
  let escalations = input.resume?.escalations ?? 0;
  let reminded = input.resume?.reminders ?? 0;
  let progress: LabelBatchProgress | undefined;
  let note = '';

  const waited = () => Math.round((Date.now() - waitStartedAt) / 1000);
  const show = (message: string) => {
    state.message = message;
    if (progress) Object.assign(state, { items: progress.items, labeled: progress.labeled, pending: progress.pending });
    const where = batch.projectId !== null ? `Label Studio project ${batch.projectId}` : `no Label Studio configured: import the annotated export with \`retrain labels import FILE\` (tasks file \`${batch.tasksKey}\`)`;
    const agreement = progress?.agreement.kappa !== null && progress?.agreement.kappa !== undefined ? `${progress.agreement.method === 'cohen' ? "Cohen's" : "Fleiss'"} kappa ${progress.agreement.kappa.toFixed(3)} over ${progress.agreement.items} items` : 'no agreement yet';
    setCurrentDetails(
      [
        `## ${spec.name}: labeling batch ${batch.batchId} for ${input.day}`,
        message,
        note,
        `${batch.items} rows (${batch.uncertainty} closest to the champion's decision boundary${batch.marginCutoff !== null ? `, margin ≤ ${batch.marginCutoff.toFixed(3)}` : ''}, ${batch.random} at random${batch.ranked ? '' : ': no champion to rank by'}), ${where}.`,
        progress
          ? `Labeled ${progress.labeled}/${progress.items} (${labels.annotatorsPerItem} annotator(s) per item), pending ${progress.pending}, conflicts ${progress.conflicts} (${progress.ties} tied, ${progress.review} sent back for review); ${agreement}.`
          : 'No annotations read yet.',
        `Waiting ${waited()} s; reminders ${reminded}, escalations ${escalations}; timeout after ${labels.timeout.seconds} s: ${labels.timeout.onTimeout}.`,
      ]
        .filter((line) => line !== '')
        .join('\n\n'),
    );
  };

  /** Reads the batch; a failed read (Label Studio away) is noted and waited out, never the run's end. */
  const read = async (source: 'webhook' | 'poll') => {
    try {
      progress = await sync.syncLabelBatch({ batchId: batch.batchId, source });
      note = progress.unreadable.length > 0 ? `Unreadable annotations: ${progress.unreadable.map((u) => `task ${u.taskId} annotation ${u.annotationId}: ${u.problem}`).join('; ')}` : '';
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause.message : err.message;
      if (err.cause instanceof ApplicationFailure && err.cause.nonRetryable) throw err;
      note = `**Could not read the batch** (${cause}); trying again at the next poll or webhook.`;
      log.warn('labeling batch could not be read; waiting for the next poll', { batchId: batch.batchId, error: cause });
    }
  };

  show('sent; waiting for annotations');
  await read('poll');
  let lastRead = Date.now();
  let nextReminder = waitStartedAt + (reminded + 1) * labels.reminderSeconds * 1000;
  let timeoutAt = waitStartedAt + (escalations + 1) * labels.timeout.seconds * 1000;
  let outcome: { status: 'labeled' | 'proceeded'; reason: string } | undefined;
  for (;;) {
    if (progress && labelingComplete(progress)) {
      outcome = { status: 'labeled', reason: `all ${progress.items} items annotated by ${labels.annotatorsPerItem} annotator(s): ${progress.labeled} labeled, ${progress.ties} tied and left out` };
      break;
    }
    if (workflowInfo().historyLength > CONTINUE_AS_NEW_EVENTS || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof labelingHandoff>({ ...input, resume: { batch, waitStartedAt, escalations, reminders: reminded } });
    }
    const now = Date.now();
    const nextPoll = lastRead + labels.pollSeconds * 1000;
    const seen = signals;
    const signalled = await condition(() => signals !== seen, Math.max(1, Math.min(nextPoll, nextReminder, timeoutAt) - now));
    if (signalled) {
      await read('webhook');
      lastRead = Date.now();
      show('annotations arrived (webhook)');
      continue;
    }
    if (Date.now() >= timeoutAt) {
      await read('poll');
      lastRead = Date.now();
      if (progress && labelingComplete(progress)) continue;
      const counts = progress ?? { items: batch.items, labeled: 0, pending: batch.items, review: 0, ties: 0 };
      const decision = decideLabelingTimeout(counts, labels.timeout, waited());
      if (decision.action === 'escalate') {
        escalations++;
        timeoutAt = waitStartedAt + (escalations + 1) * labels.timeout.seconds * 1000;
        escalationsCounter.add(1, { model: spec.name });
        log.warn('labeling batch escalated', { model: spec.name, batchId: batch.batchId, escalations, reason: decision.reason });
        show(`**Escalated ${escalations}×**: ${decision.reason}`);
        continue;
      }
      if (decision.action === 'proceed') {
        outcome = { status: 'proceeded', reason: decision.reason };
        break;
      }
      await control.closeLabelBatch({ batchId: batch.batchId, status: 'failed', reason: decision.reason });
      show(`**Failed**: ${decision.reason}`);
      throw ApplicationFailure.create({ type: 'LabelingIncomplete', message: decision.reason, nonRetryable: true });
    }
    if (Date.now() >= nextReminder) {
      reminded++;
      nextReminder = waitStartedAt + (reminded + 1) * labels.reminderSeconds * 1000;
      reminders.add(1, { model: spec.name });
      const pending = progress ? `${progress.pending} of ${progress.items} items still pending` : `${batch.items} items, none read yet`;
      log.warn('labeling batch is waiting for annotations', { model: spec.name, batchId: batch.batchId, reminder: reminded, pending: progress?.pending ?? batch.items });
      show(`**Reminder ${reminded}**: ${pending} after ${waited()} s`);
    }
    if (Date.now() >= nextPoll) {
      await read('poll');
      lastRead = Date.now();
      show('waiting for annotations');
    }
  }
  const final = progress ?? { labeled: 0, conflicts: 0, ties: 0, agreement: { method: 'none' as const, kappa: null, items: 0, meanItemAgreement: null, annotators: [] } };
  await control.closeLabelBatch({ batchId: batch.batchId, status: outcome.status, reason: outcome.reason });
  show(`**Done**: ${outcome.reason}`);
  return {
    batch,
    status: outcome.status,
    reason: outcome.reason,
    labeled: final.labeled,
    conflicts: final.conflicts,
    ties: final.ties,
    agreement: final.agreement,
    escalations,
    waitedSeconds: waited(),
  };
}
