import type { Kysely } from 'kysely';
import { labelledOutcomes, pairedShadowPredictions, predictionStats } from '../db/repositories/predictions';
import type { Database } from '../db/schema';
import type { ShadowObservation } from '../policy/shadow-gates';
import { quantile } from '../stats/quantile';
import { supportedTailQuantile } from '../stats/tail-quantile';

/** Mirrored requests the shadow has answered since it started (the workflow polls this while it waits). */
export async function countMirroredRequests(db: Kysely<Database>, input: { model: string; candidateVersionId: string; since: string }): Promise<number> {
  const stats = await predictionStats(db, { model: input.model, versionId: input.candidateVersionId, role: 'shadow', since: new Date(input.since) });
  return stats.requests;
}

const accuracy = (rows: Array<{ predictedLabel: number; label: number }>) => (rows.length === 0 ? null : rows.filter((r) => r.predictedLabel === r.label).length / rows.length);

/**
 * What the shadow phase saw: agreement of predicted labels on the same requests,
 * both models' latency on them, candidate errors, and accuracy on the requests
 * whose label has arrived. Labels follow lib/stats/decision-threshold, latency
 * percentiles lib/stats/quantile (the canary's percentile_cont is the same definition).
 */
export async function observeShadow(db: Kysely<Database>, input: { model: string; candidateVersionId: string; since: string; until: string }): Promise<ShadowObservation> {
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
    labelled: { rows: candidateLabelled.length, championAccuracy: accuracy(championLabelled), candidateAccuracy: accuracy(candidateLabelled) },
  };
}
