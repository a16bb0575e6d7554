import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction, type ScheduleSpec } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { MonitoringSpec, durationMs } from '../../lib/spec/monitoring-spec';
import { searchAttributes } from '../../workflows/definitions';
import { DRIFT_MONITOR, driftMonitorScheduleId, type DriftMonitorInput } from '../../workflows/drift-monitor-definitions';

/**
 * Retrain's Temporal Schedules, each described once as data (a ScheduleDefinition) and applied
 * with create-or-update, so running `apply` again with a changed spec changes the Schedule in
 * place (its id, and the history of what it started, stay). The drift monitor's Schedule is the
 * first; the pipeline's (`retrain schedule apply`) is meant to be another `…Schedule(spec)`
 * function returning a definition for the same `applySchedule`.
 */
export interface ScheduleDefinition {
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleOptionsStartWorkflowAction<Workflow>;
  policies: NonNullable<ScheduleOptions['policies']>;
  /** Set when the Schedule is created (Temporal keeps a Schedule's memo as created). */
  memo: Record<string, unknown>;
  /** Updated on every apply: which spec, by content hash, the Schedule now runs. */
  note: string;
}

/** sha256 of a spec's JSON: names the spec a Schedule was applied from. */
export function specDigest(spec: ModelSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/**
 * The drift monitor's Schedule of a model: every `monitoring.interval`, a `driftMonitor` pass
 * (workflow id `drift/<model>-<scheduled time>`) over the window that ends at the scheduled time.
 * A pass still running when the next is due makes that one skip (overlap SKIP: two passes of one
 * model would claim the same retraining); missed ticks within one interval are caught up.
 */
export function driftMonitorSchedule(spec: ModelSpec, taskQueue: string): ScheduleDefinition {
  const monitoring = spec.monitoring ?? MonitoringSpec.parse({});
  const digest = specDigest(spec);
  const input: DriftMonitorInput = { spec };
  return {
    scheduleId: driftMonitorScheduleId(spec.name),
    spec: { intervals: [{ every: durationMs(monitoring.interval) }] },
    action: {
      type: 'startWorkflow',
      workflowType: DRIFT_MONITOR,
      workflowId: driftMonitorScheduleId(spec.name),
      taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: searchAttributes.model, value: spec.name }],
      memo: { model: spec.name, specSha256: digest },
      staticSummary: `Drift monitor of ${spec.name}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: durationMs(monitoring.interval), pauseOnFailure: false },
    memo: { model: spec.name, kind: 'drift-monitor', createdFromSpecSha256: digest },
    note: `drift monitor of ${spec.name}: every ${monitoring.interval}, window ${monitoring.window}; spec sha256 ${digest}`,
  };
}

/** Creates the Schedule, or updates it in place when it exists. */
export async function applySchedule(client: Client, definition: ScheduleDefinition): Promise<{ scheduleId: string; created: boolean }> {
  try {
    await client.schedule.create({
      scheduleId: definition.scheduleId,
      spec: definition.spec,
      action: definition.action,
      policies: definition.policies,
      memo: definition.memo,
      state: { note: definition.note },
    });
    return { scheduleId: definition.scheduleId, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(definition.scheduleId).update((previous) => ({
    ...previous,
    spec: definition.spec,
    action: definition.action,
    policies: definition.policies,
    state: { ...previous.state, note: definition.note },
  }));
  return { scheduleId: definition.scheduleId, created: false };
}
