import type { Kysely } from 'kysely';
import { labelledOutcomes, pairedShadowPredictions, predictionStats } from '../db/repositories/predictions';
import type { Database } from '../db/schema';
import { finiteOrNull, type MetricInterval } from '../policy/live-metric-comparison';
import type { LabelledProbabilities, ScoreComparison, ShadowObservation } from '../policy/shadow-gates';
import { resolvedShadowBootstrap, type ShadowSpec } from '../spec/model-spec';
import { twoSampleKolmogorovSmirnov } from '../stats/kolmogorov-smirnov';
import { pairedBootstrap, type MetricDifference } from '../stats/paired-bootstrap';
import { quantile } from '../stats/quantile';
import { scoreAgreement } from '../stats/score-agreement';
import { supportedTailQuantile } from '../stats/tail-quantile';

/** Mirrored requests the shadow has answered since it started (the workflow polls this while it waits). */
export async function countMirroredRequests(db: Kysely<Database>, input: { model: string; candidateVersionId: string; since: string }): Promise<number> {
  const stats = await predictionStats(db, { model: input.model, versionId: input.candidateVersionId, role: 'shadow', since: new Date(input.since) });
  return stats.requests;
}

const accuracy = (rows: Array<{ predictedLabel: number; label: number }>) => (rows.length === 0 ? null : rows.filter((r) => r.predictedLabel === r.label).length / rows.length);

/**
 * What the shadow phase saw: agreement of predicted labels and of scores on the same requests
 * (mean and p99 of the absolute difference, the KS test between the two score distributions),
 * both models' latency on them, candidate errors, and on the requests whose label has arrived,
 * accuracy and the probability metrics (log loss, Brier score, ROC AUC) with the paired bootstrap
 * interval of candidate − champion. Labels follow lib/stats/decision-threshold, latency
 * percentiles lib/stats/quantile (the canary's percentile_cont is the same definition).
 * `bootstrap` comes from the spec (absent: the defaults, for a workflow started before it was passed).
 */
export async function observeShadow(
  db: Kysely<Database>,
  input: { model: string; candidateVersionId: string; since: string; until: string; bootstrap?: ShadowSpec['bootstrap'] },
): Promise<ShadowObservation> {
  const window = { since: new Date(input.since), until: new Date(input.until) };
  const pairs = await pairedShadowPredictions(db, { model: input.model, shadowVersionId: input.candidateVersionId, ...window });
  const answered = pairs.filter((p) => p.shadowProbability !== null && p.championProbability !== null);
  // Labels under the decision rule, computed by the query (lib/stats/decision-threshold).
  const agreeing = answered.filter((p) => p.shadowLabel === p.championLabel).length;
  // Linear interpolation, the definition of the canary's percentile_cont (lib/stats/quantile).
  const percentile = (values: number[], q: number) => (values.length === 0 ? null : quantile(values, q));
  // The gateway merges concurrent requests into one model call; only requests both sides scored alone have comparable latency.
  const alone = answered.filter((p) => p.championScoredAlone && p.shadowScoredAlone);
  const timed = alone.length > 0 ? alone : answered;
  const championLatency = timed.map((p) => p.championLatencyMs);
  const candidateLatency = timed.map((p) => p.shadowLatencyMs);
  const tailQuantile = supportedTailQuantile(timed.length);

  const candidateLabelled = await labelledOutcomes(db, { model: input.model, versionId: input.candidateVersionId, role: 'shadow', ...window });
  const championVersionId = pairs[0]?.championVersionId;
  const labelledIds = new Set(candidateLabelled.map((r) => r.requestId));
  const championLabelled = championVersionId
    ? (await labelledOutcomes(db, { model: input.model, versionId: championVersionId, role: 'champion', ...window })).filter((r) => labelledIds.has(r.requestId))
    : [];
  const championById = new Map(championLabelled.map((r) => [r.requestId, r]));
  const labelledPairs = candidateLabelled.flatMap((c) => {
    const h = championById.get(c.requestId);
    return h ? [{ label: c.label, candidate: c.probability, champion: h.probability }] : [];
  });
  return {
    requests: answered.length,
    candidateErrors: pairs.filter((p) => p.shadowError !== null).length,
    agreement: answered.length === 0 ? null : agreeing / answered.length,
    latencyMs: {
      championP50: percentile(championLatency, 0.5),
      championP99: percentile(championLatency, 0.99),
      candidateP50: percentile(candidateLatency, 0.5),
      candidateP99: percentile(candidateLatency, 0.99),
      championTail: percentile(championLatency, tailQuantile),
      candidateTail: percentile(candidateLatency, tailQuantile),
      tailQuantile,
      timedPairs: timed.length,
    },
    labelled: {
      rows: candidateLabelled.length,
      championAccuracy: accuracy(championLabelled),
      candidateAccuracy: accuracy(candidateLabelled),
      probabilities: labelledProbabilities(labelledPairs, resolvedShadowBootstrap({ bootstrap: input.bootstrap })),
    },
    scores: compareScores(
      answered.map((p) => p.championProbability!),
      answered.map((p) => p.shadowProbability!),
    ),
  };
}

/** Log loss, Brier score and ROC AUC of both models on the same labelled requests, with the paired bootstrap interval of each difference. */
export function labelledProbabilities(
  pairs: ReadonlyArray<{ label: number; candidate: number; champion: number }>,
  bootstrap: { samples: number; confidence: number; seed: number },
): LabelledProbabilities {
  const result = pairedBootstrap({
    labels: Uint8Array.from(pairs, (p) => (p.label === 1 ? 1 : 0)),
    candidateScores: Float64Array.from(pairs, (p) => p.candidate),
    championScores: Float64Array.from(pairs, (p) => p.champion),
    ...bootstrap,
  });
  const interval = (d: MetricDifference): MetricInterval => ({
    candidate: finiteOrNull(d.candidate),
    champion: finiteOrNull(d.champion),
    delta: finiteOrNull(d.delta),
    low: finiteOrNull(d.low),
    high: finiteOrNull(d.high),
  });
  return { rows: pairs.length, confidence: bootstrap.confidence, samples: bootstrap.samples, logLoss: interval(result.logLoss), brier: interval(result.brier), auc: interval(result.auc) };
}

/** Agreement of the two models' probabilities on the same requests, and the KS test between their distributions. */
export function compareScores(champion: readonly number[], candidate: readonly number[]): ScoreComparison {
  const agreement = scoreAgreement(champion, candidate);
  const ks = twoSampleKolmogorovSmirnov(champion, candidate);
  return {
    pairs: agreement.pairs,
    meanAbsDifference: finiteOrNull(agreement.meanAbsDifference),
    p99AbsDifference: finiteOrNull(agreement.p99AbsDifference),
    ks: { statistic: finiteOrNull(ks.statistic), pValue: finiteOrNull(ks.pValue) },
  };
}
