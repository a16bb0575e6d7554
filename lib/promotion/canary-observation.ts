import type { Kysely } from 'kysely';
import type { CanarySpec } from '../spec/model-spec';
import { labelledOutcomes, latencyQuantile, predictionStats } from '../db/repositories/predictions';
import type { Database } from '../db/schema';
import type { CanaryObservation } from '../policy/canary-stage-analysis';
import { pairedAccuracySprt } from '../stats/paired-accuracy-test';
import { supportedTailQuantile } from '../stats/tail-quantile';

/**
 * What a canary stage saw: canary and champion traffic over the stage's window, and the
 * paired sequential test of the canary's accuracy against the champion's on the labels
 * that arrived since the canary started (see pairedAccuracySprt). Latency quantiles are Postgres'
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
  return {
    canary: { requests: canary.requests, errors: canary.errors, latencyP99: canary.latencyP99, latencyTail: canaryTail },
    champion: { requests: champion.requests, errors: champion.errors, latencyP99: champion.latencyP99, latencyTail: championTail },
    sprt: accuracy?.sprt ?? null,
    accuracy: accuracy && { pairs: accuracy.pairs, discordant: accuracy.discordant, canaryRight: accuracy.canaryRight, canaryAccuracy: accuracy.canaryAccuracy, championAccuracy: accuracy.championAccuracy },
    tailQuantile,
  };
}
