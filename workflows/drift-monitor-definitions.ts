import { defineQuery } from '@temporalio/workflow';
import type { ModelSpec } from '../lib/spec/model-spec';
import type { DriftPassResult } from '../lib/monitoring/drift-pass';
import type { RetrainingStartDecision } from '../lib/policy/drift-trigger';

/** The drift monitor's names and payloads, importable by clients (CLI, schedules, tests) without workflow code. */

export const DRIFT_MONITOR = 'driftMonitor';

/** `2026-12-01T19:00:00Z`: the window end to the second, as ids and reports show it. */
export function windowEndStamp(end: Date | string): string {
  return new Date(end).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Workflow id of one monitor pass started by hand (`retrain drift`): `drift/<model>/<window end>`. */
export function driftMonitorId(model: string, windowEnd: Date | string): string {
  return `drift/${model}/${windowEndStamp(windowEnd)}`;
}

/**
 * The Schedule of a model's monitor: `drift/<model>`. Temporal appends each scheduled time to the
 * action's workflow id, so its passes are `drift/<model>-<scheduled time>`.
 */
export function driftMonitorScheduleId(model: string): string {
  return `drift/${model}`;
}

/**
 * Workflow id of the retraining run a report starts: the pipeline's `retrain/<model>/<day>` and the
 * report's window end, so a repeated pass of the same window (same report) cannot start a second
 * (the child is started with the id reuse policy REJECT_DUPLICATE).
 */
export function driftRetrainingId(model: string, day: string, windowEnd: Date | string): string {
  return `retrain/${model}/${day}/drift-${windowEndStamp(windowEnd).replace(/[-:]/g, '')}`;
}

export interface DriftMonitorInput {
  spec: ModelSpec;
  /** ISO timestamp; default: the Schedule's scheduled time, or the workflow's start. */
  windowEnd?: string;
  /** ISO timestamp; default: windowEnd − spec.monitoring.window. */
  windowStart?: string;
}

export interface DriftMonitorResult {
  model: string;
  workflowId: string;
  window: { start: string; end: string };
  pass: DriftPassResult;
  /** Null when the trigger was not crossed (nothing to decide). */
  decision: RetrainingStartDecision | null;
  /** The retraining run this pass started, or null. */
  retraining: { workflowId: string; day: string } | null;
}

export interface DriftMonitorState {
  stage: 'measuring' | 'deciding' | 'starting-retraining' | 'done';
  message: string;
}

export const driftMonitorStateQuery = defineQuery<DriftMonitorState>('driftMonitorState');
