import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';

/**
 * The changes made behind `patched()` (docs/changing-workflows.md): a history recorded before
 * each change replays with the current code, a run recorded after it took the new path, and the
 * current code with the guard removed (replaced by `true`, what the change would have been
 * without it) fails to replay the old history.
 */

const HISTORY_DIR = path.join(__dirname, 'histories');
const WORKFLOWS = path.join(__dirname, '..', '..', 'workflows', 'index.ts');
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

interface RecordedEvent {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; input?: { payloads?: { data?: string }[] } };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> };
}

function loadHistory(file: string): { workflowId: string; history: { events: RecordedEvent[] } } {
  return JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')) as { workflowId: string; history: { events: RecordedEvent[] } };
}

/** The patch ids a history's markers record. */
function patchIds(events: readonly RecordedEvent[]): string[] {
  return events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.markerName === 'core_patch' ? e.markerRecordedEventAttributes.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

/** The decoded input payloads of every scheduled activity of this type. */
function activityInputs(events: readonly RecordedEvent[], type: string): string[] {
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)
    .map((e) => Buffer.from(e.activityTaskScheduledEventAttributes!.input?.payloads?.[0]?.data ?? '', 'base64').toString('utf8'));
}

function scheduledActivities(events: readonly RecordedEvent[]): string[] {
  return events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? ''] : []));
}

/** Replays a history against the current workflow code with one guard replaced (or as is, without `guard`). */
function replay(file: string, guard?: { file: RegExp; guard: string; replacement: string }): Promise<void> {
  const { workflowId, history } = loadHistory(file);
  const webpackConfigHook = guard
    ? (config: { module?: { rules?: unknown[] } }) => {
        config.module?.rules?.push({ test: guard.file, enforce: 'pre', use: [{ loader: path.join(__dirname, 'without-patch-loader.cjs'), options: guard }] });
        return config;
      }
    : undefined;
  return Worker.runReplayHistory({ workflowsPath: WORKFLOWS, bundlerOptions: { logger: quiet, webpackConfigHook } as never }, history, workflowId);
}

describe("patched('approvers-from-policy'): the allowlist from the model's policy, refusals in the validator", () => {
  const before = 'retraining-pipeline-approval-refused-by-handler.json';
  const after = 'retraining-pipeline-approval-from-policy.json';
  const unguarded = { file: /safe-promotion\.ts$/, guard: 'patched(APPROVERS_FROM_POLICY)', replacement: 'true' };

  it('the history recorded before the change took the old path: a refusal recorded by an activity in the Update handler', () => {
    const { events } = loadHistory(before).history;
    expect(patchIds(events)).toEqual([]);
    expect(scheduledActivities(events)).not.toContain('loadApproverPolicy');
    expect(activityInputs(events, 'recordApprovalEvent').filter((input) => input.includes('"action":"refused"'))).toHaveLength(1);
  });

  it('replays with the current code (the old path is kept behind the guard)', async () => {
    await replay(before);
  });

  it('a run of the current code takes the new path: the patch marker, the policy read by an activity, no refusal in the history', async () => {
    const { events } = loadHistory(after).history;
    expect(patchIds(events)).toEqual(['approvers-from-policy']);
    expect(scheduledActivities(events)).toContain('loadApproverPolicy');
    // 102 requests were refused while it waited (the integration test): none is in the history.
    expect(activityInputs(events, 'recordApprovalEvent').filter((input) => input.includes('"action":"refused"'))).toEqual([]);
    expect(events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(1);
    await replay(after);
  });

  it('without the guard, the old history fails to replay', async () => {
    await expect(replay(before, unguarded)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

describe("patched('record-rollback-approval'): a requested rollback recorded in approvals", () => {
  const unguarded = { file: /canary-rollout\.ts$/, guard: 'patched(RECORD_ROLLBACK_APPROVAL)', replacement: 'true' };

  it('replays the history recorded before it, and fails to without the guard', async () => {
    await replay('canary-rollout-rollback-requested-no-approval-record.json');
    await expect(replay('canary-rollout-rollback-requested-no-approval-record.json', unguarded)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

describe("patched('canary-progress-to-parent'): the canary signals its progress to the pipeline run", () => {
  // Recorded as the child of a pipeline run, before the canary sent its parent anything.
  const before = 'canary-rollout-promoted.json';
  const unguarded = { file: /canary-rollout\.ts$/, guard: 'patched(CANARY_PROGRESS_TO_PARENT)', replacement: 'true' };

  it('replays the history recorded before it, and fails to without the guard', async () => {
    const { events } = loadHistory(before).history;
    expect(patchIds(events)).not.toContain('canary-progress-to-parent');
    await replay(before);
    await expect(replay(before, unguarded)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

// Histories recorded before the labeling stage existed have no `labels` in their spec, so they never
// reach the guard (`spec.labels && patched(...)`): they replay unchanged (recorded-histories.replay.test.ts).
// What this pins is the new path: a run whose spec has labels records the marker and the child.
describe("patched('labeling-handoff-stage'): runs of specs with labels hand rows to labelingHandoff before training", () => {
  const file = 'retraining-pipeline-labeled.json';

  it('a run of the current code records the patch marker and starts labelingHandoff before trainModel, and replays', async () => {
    const { events } = loadHistory(file).history;
    expect(patchIds(events)).toContain('labeling-handoff-stage');
    const types = events.map((e) => e.eventType);
    const childStarted = types.indexOf('EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED');
    const trainScheduled = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel');
    expect(childStarted).toBeGreaterThan(-1);
    expect(childStarted).toBeLessThan(trainScheduled);
    expect(activityInputs(events, 'trainModel')[0]).toContain('"labelBatchIds"');
    await replay(file);
  });

  it('the labelingHandoff history replays: webhook signals, reads, agreement, close', async () => {
    const { events } = loadHistory('labeling-handoff-labeled.json').history;
    expect(events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED').length).toBeGreaterThan(0);
    expect(scheduledActivities(events)).toEqual(expect.arrayContaining(['prepareLabelBatch', 'sendLabelBatch', 'syncLabelBatch', 'closeLabelBatch']));
    await replay('labeling-handoff-labeled.json');
  });
});
