import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

export interface ActivitySpan {
  activityType: string;
  startMs: number;
  endMs: number;
}

export interface PipelineTimeline {
  workflowStartMs: number;
  workflowEndMs: number;
  activities: ActivitySpan[];
}

function toMs(ts: Timestamp): number {
  if (!ts) throw new Error('history event without a time');
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : (ts.seconds?.toNumber() ?? 0);
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

/**
 * Reads, from a finished workflow's history, when the workflow started and
 * closed and when each activity's successful attempt ran on a worker.
 */
export function pipelineTimeline(history: History): PipelineTimeline {
  const events = history.events ?? [];
  const scheduled = new Map<number, string>();
  const started = new Map<number, number>();
  const activities: ActivitySpan[] = [];
  let workflowStartMs = Number.NaN;
  let workflowEndMs = Number.NaN;
  for (const event of events) {
    const id = Number(event.eventId);
    const at = toMs(event.eventTime as Timestamp);
    if (event.workflowExecutionStartedEventAttributes) workflowStartMs = at;
    if (event.workflowExecutionCompletedEventAttributes || event.workflowExecutionFailedEventAttributes) workflowEndMs = at;
    const sched = event.activityTaskScheduledEventAttributes;
    if (sched) scheduled.set(id, sched.activityType?.name ?? '?');
    const start = event.activityTaskStartedEventAttributes;
    if (start) started.set(Number(start.scheduledEventId), at);
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const scheduledId = Number(done.scheduledEventId);
      activities.push({ activityType: scheduled.get(scheduledId) ?? '?', startMs: started.get(scheduledId) ?? at, endMs: at });
    }
  }
  return { workflowStartMs, workflowEndMs, activities };
}

/** Total time during which at least one activity was running (overlaps counted once). */
export function busyTimeMs(spans: readonly ActivitySpan[]): number {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
  let total = 0;
  let currentStart = Number.NaN;
  let currentEnd = Number.NaN;
  for (const span of sorted) {
    if (Number.isNaN(currentEnd) || span.startMs > currentEnd) {
      if (!Number.isNaN(currentEnd)) total += currentEnd - currentStart;
      currentStart = span.startMs;
      currentEnd = span.endMs;
    } else {
      currentEnd = Math.max(currentEnd, span.endMs);
    }
  }
  if (!Number.isNaN(currentEnd)) total += currentEnd - currentStart;
  return total;
}
