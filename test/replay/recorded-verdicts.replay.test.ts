import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeCanaryStage, type CanaryObservation } from '../../lib/policy/canary-stage-analysis';
import { judgeShadow, type ShadowObservation, type ShadowVerdict } from '../../lib/policy/shadow-gates';
import type { CanarySpec, ShadowSpec } from '../../lib/spec/model-spec';

// A replay compares commands, not what the policy concluded: a verdict whose `passed` stayed the
// same but whose checks or reason changed would still replay. The policy must decide exactly as
// it did on every observation recorded here (observations are activity results, the verdicts are
// recomputed in the workflow), so this judges each recorded observation again, with the spec
// of the workflow input as recorded (not parsed again, as the workflow reads it).

const HISTORY_DIR = path.join(__dirname, 'histories');

interface HistoryEvent {
  eventType: string;
  [attributes: string]: unknown;
}

function payloadsOf(attributes: unknown, field: 'input' | 'result'): unknown[] {
  const payloads = (attributes as Record<string, { payloads?: Array<{ data: string }> } | undefined>)?.[field]?.payloads ?? [];
  return payloads.map((p) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as unknown);
}

function loadEvents(file: string): HistoryEvent[] {
  return (JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')) as { history: { events: HistoryEvent[] } }).history.events;
}

const workflowType = (events: HistoryEvent[]) =>
  (events[0]!.workflowExecutionStartedEventAttributes as { workflowType: { name: string } }).workflowType.name;
const workflowInput = <T,>(events: HistoryEvent[]) => payloadsOf(events[0]!.workflowExecutionStartedEventAttributes, 'input')[0] as T;

/** Results of the completed activities of one type, in order. */
function activityResults(events: HistoryEvent[], activity: string): unknown[] {
  const scheduled = new Map<string, string>();
  const results: unknown[] = [];
  events.forEach((event) => {
    const s = event.activityTaskScheduledEventAttributes as { activityType: { name: string } } | undefined;
    if (s) scheduled.set(String((event as { eventId?: string }).eventId), s.activityType.name);
    const done = event.activityTaskCompletedEventAttributes as { scheduledEventId: string } | undefined;
    if (done && scheduled.get(String(done.scheduledEventId)) === activity) results.push(payloadsOf(done, 'result')[0]);
  });
  return results;
}

function completedResult<T>(events: HistoryEvent[]): T | undefined {
  const last = events.at(-1)!;
  return last.workflowExecutionCompletedEventAttributes ? (payloadsOf(last.workflowExecutionCompletedEventAttributes, 'result')[0] as T) : undefined;
}

/** Latencies lost a decimal in messages after the oldest histories were recorded (formatMilliseconds); every other word must be the same. */
function withoutMilliseconds(verdict: ShadowVerdict): ShadowVerdict {
  const mask = (text: string) => text.replace(/\d+(\.\d+)? ms\b/g, '<ms>');
  return { ...verdict, reason: mask(verdict.reason), checks: verdict.checks.map((c) => ({ ...c, message: mask(c.message) })) };
}

const histories = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json')).sort();
const shadows = histories.filter((f) => workflowType(loadEvents(f)) === 'shadowEvaluation');
const canaries = histories.filter((f) => workflowType(loadEvents(f)) === 'canaryRollout' && completedResult(loadEvents(f)) !== undefined);

describe('verdicts on recorded observations', () => {
  it('has recorded shadows and canaries to judge again', () => {
    expect(shadows.length).toBeGreaterThan(0);
    expect(canaries.length).toBeGreaterThan(0);
  });

  it.each(shadows)('%s: the shadow verdict is the recorded one', (file) => {
    const events = loadEvents(file);
    const { spec } = workflowInput<{ spec: ShadowSpec }>(events);
    const [observation] = activityResults(events, 'observeShadow') as ShadowObservation[];
    const recorded = completedResult<{ verdict: ShadowVerdict }>(events)!.verdict;
    expect(withoutMilliseconds(judgeShadow(observation!, spec))).toEqual(withoutMilliseconds(recorded));
  });

  it.each(canaries)('%s: every stage that was decided by analysis is decided the same way', (file) => {
    const events = loadEvents(file);
    const { spec } = workflowInput<{ spec: CanarySpec }>(events);
    const { stages } = completedResult<{ stages: Array<{ verdict: string; reason: string; observation: CanaryObservation | null }> }>(events)!;
    const judged = stages.filter((s) => s.observation !== null && (s.verdict === 'pass' || s.verdict === 'fail'));
    for (const stage of judged) {
      // The elapsed time is the workflow's own; a stage that timed out was judged at maxBakeSeconds, any other after its bake.
      const elapsed = stage.reason.startsWith('no decision after') ? spec.maxBakeSeconds : spec.bakeSeconds;
      expect(judgeCanaryStage(stage.observation!, spec, elapsed)).toEqual({ verdict: stage.verdict, reason: stage.reason });
    }
  });
});
