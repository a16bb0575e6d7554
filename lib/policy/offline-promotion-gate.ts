import type { GateSpec } from '../spec/model-spec';
import { formatMetric } from '../stats/metric-format';
import type { OfflineEvaluationSummary } from '../stats/evaluation-summary';
import { evaluateOfflineGates, type OfflineGateCheck } from './offline-gates';

export type PromotionDecision = 'promote' | 'reject' | 'unchanged';

export interface PromotionGateResult {
  decision: PromotionDecision;
  /** One line for people: the failed gates, or what passed. */
  reason: string;
  gates: OfflineGateCheck[];
}

/**
 * Decides from an offline evaluation whether the candidate replaces the
 * champion: every gate must pass. A candidate that already is the champion
 * (a repeated run) is left unchanged. Pure: the workflow calls it.
 */
export function decideOfflinePromotion(summary: OfflineEvaluationSummary, gates: GateSpec): PromotionGateResult {
  const checked = evaluateOfflineGates(summary, gates);
  if (summary.championVersion !== null && summary.championVersion === summary.candidateVersion) {
    return { decision: 'unchanged', reason: `version ${summary.candidateVersion} is already the champion`, gates: checked.results };
  }
  const failed = checked.results.filter((g) => !g.passed);
  if (failed.length > 0) return { decision: 'reject', reason: failed.map((g) => g.message).join('; '), gates: checked.results };
  const auc = `candidate AUC ${formatMetric(summary.candidate.auc)}`;
  const versus = summary.championVersion === null ? 'no champion yet' : `champion v${summary.championVersion} AUC ${formatMetric(summary.champion?.auc)}`;
  return { decision: 'promote', reason: `all ${checked.results.length} gates passed: ${auc}, ${versus}`, gates: checked.results };
}
