import type { Kysely } from 'kysely';
import { getModelVersion, setVersionStage } from '../db/repositories/model-versions';
import type { Database } from '../db/schema';

/**
 * Marks a candidate of the live path rejected (the shadow failed, an approver rejected it, the
 * approval timed out), with its reason, in one transaction with the entry in the version's kept
 * stage history. Only a candidate or a shadow is rejected: a version that moved on (a canary, a
 * champion) or was already rejected keeps its stage, so a repeated call changes nothing.
 */
export async function rejectCandidate(db: Kysely<Database>, input: { versionId: string; reason: string; workflowId?: string }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const version = await getModelVersion(trx, input.versionId);
    if (version.stage === 'candidate' || version.stage === 'shadow') await setVersionStage(trx, version.id, 'rejected', input.reason, input);
  });
}
