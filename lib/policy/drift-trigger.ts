import type { MonitoringSpec } from '../spec/monitoring-spec';

/**
 * When a drift monitor pass starts a retraining run. Two questions, kept apart:
 * - `driftCrossesTrigger`: did the drift cross the model's trigger, i.e. did at least
 *   `trigger.driftedShare` of the tested features drift, or any feature named in `trigger.anyOf`?
 * - `decideRetrainingStart`: given that it did, may a run start now? Not while a retraining run of
 *   the model is in progress (scheduled or started by an earlier report), and not within `cooldown`
 *   of the last run a report started, however long the drift persists (a storm of runs on the same
 *   drifted data would each retrain on it again).
 * Pure: the monitor's activities read the facts (in a transaction that holds the model's lock).
 */
export interface DriftVerdict {
  status: 'ok' | 'insufficient_data' | 'no_champion';
  tested: readonly string[];
  drifted: readonly string[];
  share: number;
}

export interface TriggerCrossing {
  crossed: boolean;
  reason: string;
}

export function driftCrossesTrigger(verdict: DriftVerdict, trigger: MonitoringSpec['trigger']): TriggerCrossing {
  if (verdict.status === 'no_champion') return { crossed: false, reason: 'no champion is serving: nothing to compare' };
  if (verdict.status === 'insufficient_data') return { crossed: false, reason: 'too few requests in the window to judge' };
  if (verdict.tested.length === 0) return { crossed: false, reason: 'no feature could be tested' };
  const named = trigger.anyOf.filter((f) => verdict.drifted.includes(f));
  const share = `${verdict.drifted.length} of ${verdict.tested.length} features drifted (${percent(verdict.share)}; trigger at ${percent(trigger.driftedShare)})`;
  if (named.length > 0) return { crossed: true, reason: `${named.map((f) => `'${f}'`).join(', ')} drifted (named in the trigger); ${share}` };
  if (verdict.share >= trigger.driftedShare) return { crossed: true, reason: share };
  return { crossed: false, reason: share };
}

export interface RetrainingFacts {
  /** A retraining run of the model in progress, or null. */
  running: { workflowId: string } | null;
  /** The last run a drift report started, or null. */
  lastTriggered: { workflowId: string; at: number } | null;
  /** Now, in epoch ms (the pass's window end). */
  now: number;
  cooldownMs: number;
}

export interface RetrainingStartDecision {
  start: boolean;
  reason: string;
}

export function decideRetrainingStart(crossing: TriggerCrossing, facts: RetrainingFacts): RetrainingStartDecision {
  if (!crossing.crossed) return { start: false, reason: `trigger not crossed: ${crossing.reason}` };
  if (facts.running) return { start: false, reason: `trigger crossed (${crossing.reason}), but retraining run ${facts.running.workflowId} is in progress` };
  if (facts.lastTriggered && facts.now - facts.lastTriggered.at < facts.cooldownMs) {
    const until = new Date(facts.lastTriggered.at + facts.cooldownMs).toISOString();
    return { start: false, reason: `trigger crossed (${crossing.reason}), but in cooldown until ${until} after ${facts.lastTriggered.workflowId}` };
  }
  return { start: true, reason: `trigger crossed: ${crossing.reason}` };
}

function percent(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}
