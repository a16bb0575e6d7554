import type { Kysely } from 'kysely';
import { resolvedCanaryLossGates, type CanarySpec } from '../spec/model-spec';
import { labelledOutcomes, latencyQuantile, predictionStats, type LabelledOutcome } from '../db/repositories/predictions';
import type { Database } from '../db/schema';
import type { CanaryLosses, CanaryObservation } from '../policy/canary-stage-analysis';
import { finiteOrNull } from '../policy/live-metric-comparison';
import { pairedAccuracySprt } from '../stats/paired-accuracy-test';
import { pairedLossTest, type SequentialLossDifference } from '../stats/paired-loss-test';
import { supportedTailQuantile } from '../stats/tail-quantile';

/**
 * What a canary stage saw: canary and champion traffic over the stage's window, and on the
 * labels that arrived since the canary started, the paired sequential test of the canary's
 * accuracy against the champion's (pairedAccuracySprt) and the confidence sequences of its log
 * loss and Brier score against the champion's on the same pairs (pairedLossTest). Latency quantiles are Postgres'
 * percentile_cont, the definition of lib/stats/quantile the shadow uses; a row is correct when the
 * decision rule's label (lib/stats/decision-threshold, applied in labelledOutcomes) is the feedback's.
 */
export async function observeCanary(
  db: Kysely<Database>,
  input: { model: string; canaryVersionId: string; championVersionId: string; stageSince: string; canarySince: string; spec: CanarySpec },
): Promise<CanaryObservation> {
  const stageSince = new Date(input.stageSince);
  const canarySince = new Date(input.canarySince);
  const canaryWindow = { model: input.model, versionId: input.canaryVersionId, role: 'canary' as const, since: stageSince };
  const championWindow = { model: input.model, versionId: input.championVersionId, role: 'champion' as const, since: stageSince };
  const [canary, champion] = await Promise.all([predictionStats(db, canaryWindow), predictionStats(db, championWindow)]);
  // The canary's share is small: its latency sample decides how far into the tail both sides are compared.
  const tailQuantile = supportedTailQuantile(Math.min(canary.timed, champion.timed));
  const [canaryTail, championTail] = await Promise.all([latencyQuantile(db, canaryWindow, tailQuantile), latencyQuantile(db, championWindow, tailQuantile)]);
  const [canaryLabelled, championLabelled] = await Promise.all([
    labelledOutcomes(db, { model: input.model, versionId: input.canaryVersionId, role: 'canary', since: canarySince }),
    labelledOutcomes(db, { model: input.model, versionId: input.championVersionId, role: 'champion', since: canarySince }),
  ]);
  const labelled = (rows: typeof canaryLabelled) => rows.map((r) => ({ arrival: BigInt(r.feedbackId), correct: r.predictedLabel === r.label }));
  const accuracy = canaryLabelled.length === 0 || championLabelled.length === 0 ? null : pairedAccuracySprt(labelled(canaryLabelled), labelled(championLabelled), input.spec.sprt);
  const { lossTest } = resolvedCanaryLossGates(input.spec);
  const scored = (rows: LabelledOutcome[]) => rows.map((r) => ({ arrival: BigInt(r.feedbackId), probability: r.probability, label: r.label === 1 ? (1 as const) : (0 as const) }));
  const losses = canaryLabelled.length === 0 || championLabelled.length === 0 ? null : canaryLosses(pairedLossTest(scored(canaryLabelled), scored(championLabelled), { alpha: lossTest.alpha, tunedFor: lossTest.tunedForPairs }));
  return {
    canary: { requests: canary.requests, errors: canary.errors, latencyP99: canary.latencyP99, latencyTail: canaryTail },
    champion: { requests: champion.requests, errors: champion.errors, latencyP99: champion.latencyP99, latencyTail: championTail },
    sprt: accuracy?.sprt ?? null,
    accuracy: accuracy && { pairs: accuracy.pairs, discordant: accuracy.discordant, canaryRight: accuracy.canaryRight, canaryAccuracy: accuracy.canaryAccuracy, championAccuracy: accuracy.championAccuracy },
    tailQuantile,
    losses,
  };
}

/** The loss test as the observation records it (JSON-safe: NaN becomes null). */
function canaryLosses(test: ReturnType<typeof pairedLossTest>): CanaryLosses {
  const interval = (d: SequentialLossDifference) => ({ candidate: finiteOrNull(d.canary), champion: finiteOrNull(d.champion), delta: finiteOrNull(d.delta), low: finiteOrNull(d.low), high: finiteOrNull(d.high) });
  return {
    pairs: test.pairs,
    alpha: test.alpha,
    logLoss: interval(test.logLoss),
    brier: interval(test.brier),
    auc: { canary: finiteOrNull(test.auc.canary), champion: finiteOrNull(test.auc.champion) },
  };
}
