import {
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { ControlActivities, DataActivities, EvalActivities } from '../activities';
import { durationMs, MonitoringSpec } from '../lib/spec/monitoring-spec';
import { DriftMonitorInputSchema } from '../lib/spec/workflow-inputs';
import type { RetrainingStartDecision } from '../lib/policy/drift-trigger';
import { activityOptions } from './activity-options';
import { searchAttributes, taskQueuesFor } from './definitions';
import {
  DRIFT_MONITOR,
  driftMonitorStateQuery,
  driftRetrainingId,
  type DriftMonitorInput,
  type DriftMonitorResult,
  type DriftMonitorState,
} from './drift-monitor-definitions';
import { retrainingPipeline } from './retraining-pipeline';
import { validateWorkflowInput } from './workflow-input';

/** Set by Temporal on runs a Schedule starts: the time the run was scheduled for. */
const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * One drift monitor pass for one model (started by its Temporal Schedule, or by `retrain drift`):
 * compares the window of the prediction log that ends at the scheduled time (and the partitions
 * ingested in it) with the serving champion's training data, stores the report, and when the drift
 * crosses the model's trigger starts exactly one retraining run for it: a child
 * `retrainingPipeline` with a workflow id derived from the report (REJECT_DUPLICATE) and
 * ParentClosePolicy ABANDON (the run outlives the pass), claimed in Postgres first so that none
 * starts while another retraining run of the model is in progress or within the cooldown.
 * Not a loop: each pass is its own short workflow.
 */
export async function driftMonitor(input: DriftMonitorInput): Promise<DriftMonitorResult> {
  validateWorkflowInput(DRIFT_MONITOR, DriftMonitorInputSchema, input);
  const { spec } = input;
  const monitoring = spec.monitoring ?? MonitoringSpec.parse({});
  const info = workflowInfo();
  const queues = taskQueuesFor(info.taskQueue);
  const control = proxyActivities<ControlActivities>({ ...activityOptions.bookkeeping, taskQueue: queues.control });
  const data = proxyActivities<DataActivities>({ ...activityOptions.bookkeeping, taskQueue: queues.data });
  const evaluation = proxyActivities<EvalActivities>({ ...activityOptions.driftPass, taskQueue: queues.eval });

  const end = new Date(input.windowEnd ?? info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime);
  end.setUTCMilliseconds(0);
  const start = input.windowStart ? new Date(input.windowStart) : new Date(end.getTime() - durationMs(monitoring.window));
  const window = { start: start.toISOString(), end: end.toISOString() };

  const state: DriftMonitorState = { stage: 'measuring', message: `comparing ${window.start} .. ${window.end} with the champion's training data` };
  setHandler(driftMonitorStateQuery, () => state);
  upsertSearchAttributes([{ key: searchAttributes.model, value: spec.name }]);
  const details = (lines: string[]) => setCurrentDetails([`**${spec.name}** drift monitor, window ${window.start} .. ${window.end}`, ...lines].join('\n\n'));
  details([`stage: \`${state.stage}\``]);

  const pass = await evaluation.runDriftPass({ spec, workflowId: info.workflowId, windowStart: window.start, windowEnd: window.end });
  const reportLink = pass.report ? `[drift report](${pass.report.url})` : 'no report link';

  let decision: RetrainingStartDecision | null = null;
  let retraining: DriftMonitorResult['retraining'] = null;
  if (pass.crossing.crossed) {
    state.stage = 'deciding';
    state.message = pass.crossing.reason;
    const day = await data.newestSourcePartitionDay({ spec });
    if (day === null) {
      decision = { start: false, reason: `trigger crossed (${pass.crossing.reason}), but the source holds no partition to retrain on` };
    } else {
      const workflowId = driftRetrainingId(spec.name, day, window.end);
      decision = await control.claimDriftRetraining({
        model: spec.name,
        reportId: pass.reportId,
        reportWorkflowId: info.workflowId,
        retrainingWorkflowId: workflowId,
        windowEnd: window.end,
        cooldown: monitoring.cooldown,
      });
      if (decision.start) {
        state.stage = 'starting-retraining';
        try {
          await startChild(retrainingPipeline, {
            workflowId,
            args: [{ spec, day }],
            taskQueue: info.taskQueue,
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            typedSearchAttributes: [
              { key: searchAttributes.model, value: spec.name },
              { key: searchAttributes.dataWindow, value: day },
              { key: searchAttributes.stage, value: 'ingest' },
            ],
            staticSummary: `Retrain ${spec.name} for ${day}, triggered by drift report ${pass.reportId}`,
            staticDetails: `Started by drift monitor pass ${info.workflowId}: ${decision.reason}`,
          });
        } catch (err) {
          // Started by an earlier attempt of this pass (the id belongs to this report): nothing more to start.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        retraining = { workflowId, day };
      }
    }
  }

  state.stage = 'done';
  state.message = decision ? decision.reason : pass.crossing.reason;
  details([
    `status: \`${pass.status}\`; ${pass.requests} requests; ${pass.message}`,
    retraining ? `**retraining started**: \`${retraining.workflowId}\` (${decision!.reason})` : `no retraining: ${decision ? decision.reason : `trigger not crossed: ${pass.crossing.reason}`}`,
    `estimated accuracy ${format(pass.estimatedAccuracy)}, realized ${format(pass.realizedAccuracy)} on ${pass.labelled} labels`,
    reportLink,
  ]);
  return { model: spec.name, workflowId: info.workflowId, window, pass, decision, retraining };
}

function format(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(3);
}
