import type { GateSpec } from '../config/model-spec';

/** The offline metrics a gate looks at; the full metric set is stored with the evaluation. */
export interface GateMetrics {
  auc: number;
}

export type PromotionDecision = 'promote' | 'reject' | 'unchanged';

export interface PromotionGateInput {
  candidateVersion: number;
  candidate: GateMetrics;
  /** The current champion scored on the same holdout, or null when the model has none. */
  champion: (GateMetrics & { version: number }) | null;
  gates: GateSpec;
}

export interface PromotionGateResult {
  decision: PromotionDecision;
  reason: string;
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

/**
 * Decides from offline metrics whether a candidate replaces the champion.
 * Pure and deterministic, so the workflow can call it directly.
 */
export function decideOfflinePromotion(input: PromotionGateInput): PromotionGateResult {
  const { candidate, champion, gates, candidateVersion } = input;
  if (champion && champion.version === candidateVersion) {
    return { decision: 'unchanged', reason: `version ${candidateVersion} is already the champion` };
  }
  if (!(candidate.auc >= gates.minAuc)) {
    return { decision: 'reject', reason: `gate minAuc failed: candidate AUC ${f3(candidate.auc)} is below the minimum ${f3(gates.minAuc)}` };
  }
  if (!champion) {
    return { decision: 'promote', reason: `no champion yet; candidate AUC ${f3(candidate.auc)} meets the minimum ${f3(gates.minAuc)}` };
  }
  const delta = candidate.auc - champion.auc;
  if (delta < -gates.maxAucRegression) {
    return {
      decision: 'reject',
      reason: `gate maxAucRegression failed: candidate AUC ${f3(candidate.auc)} is ${f3(-delta)} below champion v${champion.version} (${f3(champion.auc)}); allowed ${f3(gates.maxAucRegression)}`,
    };
  }
  return {
    decision: 'promote',
    reason: `candidate AUC ${f3(candidate.auc)} vs champion v${champion.version} ${f3(champion.auc)} (delta ${delta >= 0 ? '+' : ''}${f3(delta)}, allowed regression ${f3(gates.maxAucRegression)})`,
  };
}
