import type { GateSpec } from '../spec/model-spec';
import { formatMetric } from '../stats/metric-format';
import type { OfflineEvaluationSummary } from '../stats/evaluation-summary';
import type { HoldoutComparison } from './holdout-comparison';
import { evaluateOfflineGates, type OfflineGateCheck } from './offline-gates';

export type PromotionDecision = 'promote' | 'reject' | 'unchanged';

export interface PromotionGateResult {
  decision: PromotionDecision;
  /** One line for people: the failed gates, or what passed. */
  reason: string;
  gates: OfflineGateCheck[];
}

/** What the evaluation says besides its metrics; absent from results recorded before it existed. */
export interface EvaluationCircumstances {
  comparison?: HoldoutComparison;
  /** An earlier run of this window decided about this same version. */
  recorded?: { workflowId: string; decision: PromotionDecision; reason: string; finishedAt: string } | null;
}

/**
 * Decides from an offline evaluation whether the candidate replaces the
 * champion: every gate must pass. A candidate that already is the champion
 * (a repeated run) is left unchanged; so is the champion when it learned from this
 * run's held-out day (it is newer than this window: a re-run or backfill never replaces
 * it); a version an earlier run of this window decided about keeps that decision, and a
 * re-run changes nothing that is served. Pure: the workflow calls it.
 */
export function decideOfflinePromotion(summary: OfflineEvaluationSummary, gates: GateSpec, circumstances: EvaluationCircumstances = {}): PromotionGateResult {
  const checked = evaluateOfflineGates(summary, gates);
  const { recorded, comparison } = circumstances;
  if (recorded) {
    const earlier = `decided by the run of this window that finished ${recorded.finishedAt.slice(0, 10)}: ${recorded.decision} (${recorded.reason})`;
    // A rejected version stays rejected; anything else leaves serving as it is now.
    return { decision: recorded.decision === 'reject' ? 'reject' : 'unchanged', reason: `v${summary.candidateVersion} was ${earlier}; nothing is compared or changed again`, gates: checked.results };
  }
  if (comparison?.championSawHoldout) {
    const failed = checked.results.filter((g) => !g.passed);
    const verdict = failed.length === 0 ? `all ${checked.results.length} gates passed` : `gates failed: ${failed.map((g) => g.message).join('; ')}`;
    return { decision: 'unchanged', reason: `${comparison.note ?? `champion v${comparison.championVersion} learned from this holdout day`}; ${verdict}`, gates: checked.results };
  }
  if (summary.championVersion !== null && summary.championVersion === summary.candidateVersion) {
    return { decision: 'unchanged', reason: `version ${summary.candidateVersion} is already the champion`, gates: checked.results };
  }
  const failed = checked.results.filter((g) => !g.passed);
  if (failed.length > 0) return { decision: 'reject', reason: failed.map((g) => g.message).join('; '), gates: checked.results };
  const auc = `candidate AUC ${formatMetric(summary.candidate.auc)}`;
  const versus = summary.championVersion === null ? 'no champion yet' : `champion v${summary.championVersion} AUC ${formatMetric(summary.champion?.auc)}`;
  return { decision: 'promote', reason: `all ${checked.results.length} gates passed: ${auc}, ${versus}`, gates: checked.results };
}
