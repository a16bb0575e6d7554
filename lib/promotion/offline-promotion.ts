import type { Kysely } from 'kysely';
import type { PromotionDecision } from '../policy/offline-promotion-gate';
import { crownChampion } from './traffic-moves';
import { recordEvaluationVerdict, recordEvaluationVerdictIfUnset } from '../db/repositories/evaluations';
import { findChampion, getModelVersion, setVersionStage } from '../db/repositories/model-versions';
import type { Database } from '../db/schema';

/**
 * Applies an offline promotion decision in one transaction: promote crowns the
 * candidate (it serves all traffic, the old champion is archived); reject marks
 * it rejected; both record the gate verdict, and every stage change is appended to the versions'
 * kept history in the same transaction. 'unchanged' changes no stage and records a
 * verdict only where none was recorded (a repeated run keeps the first run's). Repeating the
 * same decision changes nothing.
 */
export async function applyPromotionDecision(
  db: Kysely<Database>,
  input: { versionId: string; evaluationId: string; decision: PromotionDecision; reason: string; workflowId: string; keepRecordedVerdict?: boolean },
): Promise<{ championVersion: number | null }> {
  return db.transaction().execute(async (trx) => {
    const candidate = await getModelVersion(trx, input.versionId);
    if (input.decision === 'unchanged' || input.keepRecordedVerdict) await recordEvaluationVerdictIfUnset(trx, input.evaluationId, input.decision !== 'reject', input.reason);
    else await recordEvaluationVerdict(trx, input.evaluationId, input.decision !== 'reject', input.reason);
    if (input.decision === 'promote') {
      return crownChampion(trx, { versionId: candidate.id, workflowId: input.workflowId, step: 'promote', reason: input.reason });
    }
    if (input.decision === 'reject' && candidate.stage === 'candidate') {
      await setVersionStage(trx, candidate.id, 'rejected', input.reason, input);
    }
    const champion = await findChampion(trx, candidate.model);
    return { championVersion: champion?.version ?? null };
  });
}
