import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  executeChild,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, DataActivities, EvalActivities, TrainActivities } from '../activities';
import type { ModelSpec } from '../lib/spec/model-spec';
import { RetrainingPipelineInputSchema } from '../lib/spec/workflow-inputs';
import { decideOfflinePromotion, type PromotionDecision } from '../lib/policy/offline-promotion-gate';
import { chooseTrainingMode } from '../lib/policy/training-mode';
import { renderRunDetails, type RunEvidence } from '../lib/evidence/run-details';
import { InvalidDayError, partitionsForRun } from '../lib/policy/training-window';
import { activityOptions } from './activity-options';
import {
  pipelineStateQuery,
  RETRAINING_PIPELINE,
  searchAttributes,
  taskQueuesFor,
  type DatasetSummary,
  type LabelingHandoffResult,
  type PipelineStage,
  type RetrainingPipelineInput,
  type RetrainingPipelineResult,
  type RetrainingPipelineState,
  type SafePromotionResult,
} from './definitions';
import { labelingHandoff } from './labeling-handoff';
import { promoteSafely } from './safe-promotion';
import { invalidWorkflowInput, validateWorkflowInput } from './workflow-input';

/** Patch id of the labeling stage (docs/changing-workflows.md): runs of specs with `labels` hand rows to labelingHandoff before training. */
export const LABELING_HANDOFF_STAGE = 'labeling-handoff-stage';

/**
 * One retraining run for one model and one day: ingest the partitions the run
 * needs, train on the trailing window, evaluate candidate and champion on the
 * held-out day, and promote the candidate when the offline gates pass.
 */
export async function retrainingPipeline(input: RetrainingPipelineInput): Promise<RetrainingPipelineResult> {
  validateWorkflowInput(RETRAINING_PIPELINE, RetrainingPipelineInputSchema, input);
  const { spec, day } = input;
  const info = workflowInfo();
  const queues = taskQueuesFor(info.taskQueue);
  // One proxy per queue, typed to the activities that queue's workers register (activities/index.ts).
  const control = proxyActivities<ControlActivities>({ ...activityOptions.bookkeeping, taskQueue: queues.control });
  const outcomeRecord = proxyActivities<Pick<ControlActivities, 'recordPipelineFinish'>>({ ...activityOptions.runOutcome, taskQueue: queues.control });
  const data = proxyActivities<DataActivities>({ ...activityOptions.ingestion, taskQueue: queues.data });
  // Training heartbeats every epoch; a worker that dies mid-training is noticed after this long and the retry resumes from the last checkpoint.
  const train = proxyActivities<TrainActivities>({ ...activityOptions.training, heartbeatTimeout: spec.training.heartbeatTimeoutSeconds * 1000, taskQueue: queues.train });
  const evaluation = proxyActivities<EvalActivities>({ ...activityOptions.evaluation, taskQueue: queues.eval });

  const state: RetrainingPipelineState = { stage: 'ingest', day, message: 'starting' };
  setHandler(pipelineStateQuery, () => state);
  // What the run's current details show (lib/evidence): the stage, and the evidence gathered so far, kept to the end.
  const evidence: RunEvidence = { model: spec.name, day, stage: 'ingest', message: 'starting' };
  const showEvidence = () => setCurrentDetails(renderRunDetails(evidence));
  const enterStage = (stage: PipelineStage, message: string) => {
    state.stage = stage;
    state.message = message;
    evidence.stage = stage;
    evidence.message = message;
    upsertSearchAttributes([{ key: searchAttributes.stage, value: stage }]);
    showEvidence();
  };

  upsertSearchAttributes([
    { key: searchAttributes.model, value: spec.name },
    { key: searchAttributes.dataWindow, value: day },
  ]);
  // Refuses a spec that would break the serving champion's clients, unless the run is marked as a breaking change.
  await control.recordPipelineStart({ spec, day, workflowId: info.workflowId, runId: info.runId, ...(input.breakingChange ? { breakingChange: true } : {}) });

  try {
    const { training, holdout } = runWindow(day, spec.training.windowPartitions);
    enterStage('ingest', `ingesting ${training.length} training partitions and the holdout ${holdout}`);
    const snapshots = await Promise.all([...training, holdout].map((partitionDay) => data.ingestPartition({ spec, day: partitionDay })));
    const registered = await data.registerDatasets({ model: spec.name, snapshots, workflowId: info.workflowId });
    const trainingDatasets = registered.slice(0, training.length);
    const holdoutDataset = registered[training.length] as DatasetSummary;

    const datasetIds = trainingDatasets.map((d) => d.id);
    const context = await train.assessTrainingContext({ spec, datasetIds, day });
    const decision = chooseTrainingMode(context, spec.training.policy, spec.training.trainer);
    // Only specs that declare `labels` take this stage; a spec without it takes no new command, and
    // the patch marker keeps any run recorded before the stage existed on its old path.
    let labeling: LabelingHandoffResult | undefined;
    if (spec.labels && patched(LABELING_HANDOFF_STAGE)) {
      const newest = trainingDatasets[trainingDatasets.length - 1] as DatasetSummary;
      enterStage('labeling', `sending ${spec.labels.budget} rows of ${newest.day} to Label Studio and waiting for their labels`);
      labeling = await executeChild(labelingHandoff, {
        workflowId: `${info.workflowId}/labeling`,
        args: [{ spec, day, datasetId: newest.id, championVersionId: context.champion?.versionId ?? null, pipelineWorkflowId: info.workflowId }],
      });
    }
    enterStage('train', `${decision.mode === 'fine_tune' ? 'fine-tuning' : 'training from scratch'}: ${decision.reason}`);
    const candidate = await train.trainModel({ spec, datasetIds, day, decision, context, workflowId: info.workflowId, ...(labeling ? { labelBatchIds: [labeling.batch.batchId] } : {}) });
    evidence.candidateVersion = candidate.version;

    enterStage('evaluate', `scoring v${candidate.version} and the champion on ${holdout}`);
    const offline = await evaluation.evaluateOffline({
      spec,
      candidateVersionId: candidate.id,
      holdoutDatasetId: holdoutDataset.id,
      workflowId: info.workflowId,
    });

    // comparison and recorded are absent from evaluations recorded before they existed: then the plain rules apply.
    const gate = decideOfflinePromotion(offline.summary, spec.gates, { comparison: offline.comparison, recorded: offline.recorded });
    evidence.offline = { summary: offline.summary, gates: gate.gates, verdict: gate.reason, report: offline.report, comparisonNote: offline.comparison?.note ?? null };
    const champion = context.champion;
    // The live path needs a champion serving traffic to compare against; a first model is promoted directly.
    // Runs started before promotion settings existed carry no `promotion` in their input: they keep the direct path they started with.
    const strategy = (spec as Partial<ModelSpec>).promotion?.strategy ?? 'direct';
    const live = gate.decision === 'promote' && strategy === 'safe' && champion !== null && champion.versionId !== candidate.id;
    let outcome: { decision: PromotionDecision; reason: string; championVersion: number | null; live: SafePromotionResult | null };
    if (live) {
      await control.recordOfflineVerdict({ evaluationId: offline.evaluationId, passed: true, reason: gate.reason });
      const safe = await promoteSafely({
        spec,
        candidate: { id: candidate.id, version: candidate.version },
        champion: { id: champion.versionId, version: champion.version },
        holdoutDatasetId: holdoutDataset.id,
        evidence,
        showEvidence,
        setStage: (stage, message) => enterStage(stage, message),
      });
      if (safe.decision === 'reject') await control.rejectCandidate({ versionId: candidate.id, reason: safe.reason, workflowId: info.workflowId });
      outcome = { decision: safe.decision, reason: safe.reason, championVersion: safe.championVersion, live: safe };
    } else {
      enterStage('promote', `${gate.decision}: ${gate.reason}`);
      const promotion = await control.applyPromotionDecision({
        versionId: candidate.id,
        evaluationId: offline.evaluationId,
        decision: gate.decision,
        reason: gate.reason,
        workflowId: info.workflowId,
        keepRecordedVerdict: Boolean(offline.recorded),
      });
      outcome = { decision: gate.decision, reason: gate.reason, championVersion: promotion.championVersion, live: null };
    }

    const { summary } = offline;
    const result: RetrainingPipelineResult = {
      model: spec.name,
      day,
      workflowId: info.workflowId,
      datasets: { training: trainingDatasets, holdout: holdoutDataset },
      version: { id: candidate.id, version: candidate.version, artifactKey: candidate.artifactKey, artifactSha256: candidate.artifactSha256, reused: candidate.reused },
      training: {
        mode: decision.mode,
        reason: decision.reason,
        baseVersion: context.champion && decision.baseVersionId === context.champion.versionId ? context.champion.version : null,
        resumedFromEpoch: candidate.resumedFromEpoch,
        rows: candidate.rows,
        finalLoss: candidate.finalLoss,
        logsKey: candidate.logsKey,
        worstDrift: context.worstDrift,
        ...(candidate.humanLabels ? { humanLabels: candidate.humanLabels } : {}),
      },
      metrics: { candidate: summary.candidate, champion: summary.champion, championVersion: summary.championVersion },
      evaluation: { id: offline.evaluationId, deltas: summary.deltas, gates: gate.gates, report: offline.report, comparison: offline.comparison ?? null, recordedDecision: offline.recorded ?? null },
      ...(labeling ? { labeling } : {}),
      live: outcome.live && { shadow: outcome.live.shadow, approval: outcome.live.approval, canary: outcome.live.canary },
      decision: outcome.decision,
      reason: outcome.reason,
      championVersion: outcome.championVersion,
    };
    await outcomeRecord.recordPipelineFinish({ workflowId: info.workflowId, runId: info.runId, outcome: { status: 'succeeded', result } });
    evidence.outcome = { decision: outcome.decision, reason: outcome.reason };
    enterStage('done', `${outcome.decision} v${candidate.version}: ${outcome.reason}`);
    return result;
  } catch (err) {
    const message = describeFailure(err);
    log.error('retraining pipeline failed', { message });
    enterStage('failed', message);
    // Recorded even when the run was cancelled: a cancelled scope would cancel this activity too.
    await CancellationScope.nonCancellable(() =>
      outcomeRecord.recordPipelineFinish({ workflowId: info.workflowId, runId: info.runId, outcome: { status: 'failed', error: message } }),
    );
    throw err;
  }
}

/** The run's partitions; a day that is not a calendar day fails the run (InvalidWorkflowInput), not just the workflow task. */
function runWindow(day: string, windowPartitions: number): ReturnType<typeof partitionsForRun> {
  try {
    return partitionsForRun(day, windowPartitions);
  } catch (err) {
    if (err instanceof InvalidDayError) throw invalidWorkflowInput(RETRAINING_PIPELINE, `day: ${err.problem}`);
    throw err;
  }
}

/** The innermost message of a failure chain: the reason a person needs to read. */
function describeFailure(err: unknown): string {
  if ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause) return describeFailure(err.cause);
  if (err instanceof ApplicationFailure) return err.type ? `${err.type}: ${err.message}` : err.message;
  if (err instanceof CancelledFailure) return 'cancelled';
  return err instanceof Error ? err.message : String(err);
}
