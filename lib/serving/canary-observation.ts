import type { Kysely } from 'kysely';
import type { CanarySpec } from '../config/model-spec';
import { labelledOutcomes, latencyQuantile, predictionStats } from '../db/repositories/predictions';
import type { Database } from '../db/schema';
import type { CanaryObservation } from '../policy/canary-stage-analysis';
import { bernoulliSprt } from '../stats/sequential-probability-ratio-test';
import { supportedTailQuantile } from '../stats/tail-quantile';

/**
 * What a canary stage saw: canary and champion traffic over the stage's window,
 * and the sequential test of the canary's accuracy on labelled feedback since
 * the canary started, against the champion's accuracy over the same period.
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
  const sprt =
    canaryLabelled.length === 0 || championLabelled.length === 0
      ? null
      : bernoulliSprt(
          canaryLabelled.map((r) => (r.predictedLabel === r.label ? 1 : 0)),
          { p0: championLabelled.filter((r) => r.predictedLabel === r.label).length / championLabelled.length, ...input.spec.sprt },
        );
  return {
    canary: { requests: canary.requests, errors: canary.errors, latencyP99: canary.latencyP99, latencyTail: canaryTail },
    champion: { requests: champion.requests, errors: champion.errors, latencyP99: champion.latencyP99, latencyTail: championTail },
    sprt,
    tailQuantile,
  };
}
