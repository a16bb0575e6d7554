import type { Kysely } from 'kysely';
import type { PromotionDecision } from '../policy/offline-promotion-gate';
import { recordEvaluationVerdict } from './repositories/evaluations';
import { findChampion, getModelVersion, setVersionStage } from './repositories/model-versions';
import type { Database } from './schema';

/**
 * Applies a promotion decision in one transaction: promote archives the old
 * champion and crowns the candidate; reject marks it rejected. Repeating the
 * same decision changes nothing.
 */
export async function applyPromotionDecision(
  db: Kysely<Database>,
  input: { versionId: string; evaluationId: string; decision: PromotionDecision; reason: string },
): Promise<{ championVersion: number | null }> {
  return db.transaction().execute(async (trx) => {
    const candidate = await getModelVersion(trx, input.versionId);
    // Serialise promotions of one model.
    await trx.selectFrom('models').select('name').where('name', '=', candidate.model).forUpdate().executeTakeFirstOrThrow();
    await recordEvaluationVerdict(trx, input.evaluationId, input.decision !== 'reject', input.reason);
    const champion = await findChampion(trx, candidate.model);
    if (input.decision === 'promote' && champion?.id !== candidate.id) {
      if (champion) await setVersionStage(trx, champion.id, 'archived', `replaced by v${candidate.version}`);
      await setVersionStage(trx, candidate.id, 'champion', input.reason);
      return { championVersion: candidate.version };
    }
    if (input.decision === 'reject' && candidate.stage === 'candidate') {
      await setVersionStage(trx, candidate.id, 'rejected', input.reason);
    }
    return { championVersion: champion?.version ?? null };
  });
}
