import { sql, type Kysely } from 'kysely';
import { inTransaction } from '../db/in-transaction';
import type { DbExecutor } from '../db/executor';
import { applyDeploymentChange, getDeployment } from '../db/repositories/deployments';
import { findChampion, getModelVersion, setVersionStage } from '../db/repositories/model-versions';
import type { Database } from '../db/schema';

/**
 * Every change of who serves a model's traffic, each in one transaction with
 * the version stage it implies (and that stage's entry in the version's kept history,
 * version_stage_events), keyed by a change key so a repeated activity
 * changes nothing. The gateway follows the deployments table within a second.
 */

export interface TrafficMoveInput {
  versionId: string;
  workflowId: string;
  /** Unique within the workflow, e.g. "shadow-start" or "canary-25%". */
  step: string;
  reason: string;
  /** Who asked for the change, when a person did (deployments.updated_by); the workflow id otherwise. */
  updatedBy?: string;
}

/** The database clock: windows of the prediction log are measured against the same clock that stamps its rows. */
export async function databaseNow(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(db);
  return rows[0]!.now.toISOString();
}

export async function startShadow(db: Kysely<Database>, input: TrafficMoveInput): Promise<{ since: string }> {
  await db.transaction().execute(async (trx) => {
    const version = await getModelVersion(trx, input.versionId);
    await applyDeploymentChange(trx, { model: version.model, changeKey: `${input.workflowId}/${input.step}`, reason: input.reason, workflowId: input.workflowId, set: { shadowVersionId: version.id } });
    if (version.stage === 'candidate') await setVersionStage(trx, version.id, 'shadow', input.reason, input);
  });
  return { since: await databaseNow(db) };
}

/** Ends the shadow phase; a failed shadow rejects the candidate. */
export async function stopShadow(db: Kysely<Database>, input: TrafficMoveInput & { passed: boolean }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const version = await getModelVersion(trx, input.versionId);
    const deployment = await getDeployment(trx, version.model);
    if (deployment?.shadowVersionId === version.id) {
      await applyDeploymentChange(trx, { model: version.model, changeKey: `${input.workflowId}/${input.step}`, reason: input.reason, workflowId: input.workflowId, set: { shadowVersionId: null } });
    }
    if (version.stage === 'shadow') await setVersionStage(trx, version.id, input.passed ? 'candidate' : 'rejected', input.reason, input);
  });
}

/** Sends `weight` (0..1] of the traffic to the candidate as a canary. */
export async function setCanaryWeight(db: Kysely<Database>, input: TrafficMoveInput & { weight: number }): Promise<{ since: string }> {
  await db.transaction().execute(async (trx) => {
    const version = await getModelVersion(trx, input.versionId);
    await applyDeploymentChange(trx, {
      model: version.model,
      changeKey: `${input.workflowId}/${input.step}`,
      reason: input.reason,
      workflowId: input.workflowId,
      set: { canaryVersionId: version.id, canaryWeight: input.weight },
    });
    if (version.stage === 'candidate' || version.stage === 'shadow') await setVersionStage(trx, version.id, 'canary', input.reason, input);
  });
  return { since: await databaseNow(db) };
}

/** All traffic back to the champion; the candidate is marked rolled_back with the reason. */
export async function rollbackCanary(db: Kysely<Database>, input: TrafficMoveInput): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const version = await getModelVersion(trx, input.versionId);
    await applyDeploymentChange(trx, {
      model: version.model,
      changeKey: `${input.workflowId}/${input.step}`,
      reason: input.reason,
      workflowId: input.workflowId,
      updatedBy: input.updatedBy,
      set: { canaryVersionId: null, canaryWeight: 0 },
    });
    if (version.stage !== 'champion') await setVersionStage(trx, version.id, 'rolled_back', input.reason, input);
  });
}

/** Makes the version the champion: it serves all traffic, and the old champion is archived. */
export async function crownChampion(db: DbExecutor, input: TrafficMoveInput): Promise<{ championVersion: number }> {
  return inTransaction(db, async (trx) => {
    const version = await getModelVersion(trx, input.versionId);
    // Serialise promotions of one model.
    await trx.selectFrom('models').select('name').where('name', '=', version.model).forUpdate().executeTakeFirstOrThrow();
    const previous = await findChampion(trx, version.model);
    if (previous && previous.id !== version.id) await setVersionStage(trx, previous.id, 'archived', `replaced by v${version.version}`, input);
    if (previous?.id !== version.id) await setVersionStage(trx, version.id, 'champion', input.reason, input);
    await applyDeploymentChange(trx, {
      model: version.model,
      changeKey: `${input.workflowId}/${input.step}`,
      reason: input.reason,
      workflowId: input.workflowId,
      set: { championVersionId: version.id, canaryVersionId: null, canaryWeight: 0 },
    });
    return { championVersion: version.version };
  });
}
