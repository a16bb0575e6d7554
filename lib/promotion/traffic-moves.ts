import { sql, type Kysely } from 'kysely';
import { inTransaction } from '../db/in-transaction';
import type { DbExecutor } from '../db/executor';
import { ModelNotFoundError } from '../db/not-found-errors';
import { recordApprovalEvent } from '../db/repositories/approvals';
import { findDeploymentChangeByKey, findLastChampionChange } from '../db/repositories/champion-changes';
import { applyDeploymentChange, getDeployment } from '../db/repositories/deployments';
import { findChampion, findVersionByNumber, getModelVersion, setVersionStage, type ModelVersion } from '../db/repositories/model-versions';
import type { Database } from '../db/schema';
import { planChampionRollback, RollbackRefused, type VersionFact } from '../policy/champion-rollback';

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

/** A rollback after promotion, as a person asked for it (the rollbackChampion workflow). */
export interface ChampionRollbackRequest {
  model: string;
  /** The archived version to restore; unset: the champion the current one replaced. */
  toVersion?: number;
  approver: string;
  reason: string;
  /** The request's workflow run: its change key, `<workflow id>/<run id>/rollback-champion`, makes a retried activity change nothing. */
  workflowId: string;
  runId: string;
}

export interface ChampionRollbackOutcome {
  /** False when the request found nothing to change (already done): the message says why. */
  changed: boolean;
  model: string;
  /** The version demoted to rolled_back; null when nothing changed. */
  demotedVersion: number | null;
  /** The champion after the request. */
  championVersion: number;
  /** The deployment revision the change made; null when nothing changed. */
  revision: number | null;
  message: string;
}

/** The change-key step of a rollback after promotion; planChampionRollback knows a champion restored so by it. */
export const CHAMPION_ROLLBACK_STEP = 'rollback-champion';

/**
 * Rolls a model's champion back, in one transaction: the deployment serves the restored version
 * (announced by NOTIFY on commit, so gateways swap within a second), the demoted version becomes
 * rolled_back with the reason, the restored one champion again, and an `approvals` row (action
 * 'rollback') records who asked and why. Serialised with promotions by the models row lock.
 * Idempotent twice over: a retried call of the same request returns what it did (its change key
 * is recorded), and a new request that finds nothing to undo changes nothing and says so. A
 * request that cannot be done (no previous champion, a version never champion, a canary
 * running) throws RollbackRefused, a permanent error.
 */
export async function restoreChampion(db: DbExecutor, request: ChampionRollbackRequest): Promise<ChampionRollbackOutcome> {
  return inTransaction(db, async (trx) => {
    const { model } = request;
    const locked = await trx.selectFrom('models').select('name').where('name', '=', model).forUpdate().executeTakeFirst();
    if (!locked) throw new ModelNotFoundError(model);
    const changeKey = `${request.workflowId}/${request.runId}/${CHAMPION_ROLLBACK_STEP}`;
    const done = await findDeploymentChangeByKey(trx, model, changeKey);
    if (done) {
      const [demoted, restored] = await Promise.all([done.previousChampionId, done.championId].map((id) => (id ? getModelVersion(trx, id) : undefined)));
      return {
        changed: true,
        model,
        demotedVersion: demoted?.version ?? null,
        championVersion: restored!.version,
        revision: done.revision,
        message: rolledBackMessage(model, demoted?.version ?? null, restored!.version, done.revision, request),
      };
    }

    const deployment = await getDeployment(trx, model);
    const versionFact = async (id: string | null | undefined): Promise<VersionFact | null> => (id ? fact(await getModelVersion(trx, id)) : null);
    const champion = await versionFact(deployment?.championVersionId);
    const canary = deployment?.canaryVersionId ? { version: (await getModelVersion(trx, deployment.canaryVersionId)).version, weight: deployment.canaryWeight } : null;
    const last = await findLastChampionChange(trx, model);
    const requested = request.toVersion === undefined ? undefined : await findVersionByNumber(trx, model, request.toVersion);
    const plan = planChampionRollback({
      model,
      champion,
      canary,
      lastChampionChange: last
        ? { previous: await versionFact(last.previousChampionId), byRollback: last.changeKey.endsWith(`/${CHAMPION_ROLLBACK_STEP}`), at: last.createdAt.toISOString(), reason: last.reason }
        : null,
      ...(request.toVersion === undefined ? {} : { requestedVersion: request.toVersion, requested: requested ? fact(requested) : null }),
    });
    if (plan.action === 'refused') throw new RollbackRefused(plan.message);
    if (plan.action === 'unchanged') return { changed: false, model, demotedVersion: null, championVersion: champion!.version, revision: null, message: plan.message };

    const { demote, restore } = plan;
    const why = `rollback of v${demote.version} to v${restore.version} requested by ${request.approver}: ${request.reason}`;
    const { deployment: after } = await applyDeploymentChange(trx, {
      model,
      changeKey,
      reason: why,
      workflowId: request.workflowId,
      updatedBy: request.approver,
      set: { championVersionId: restore.id, canaryVersionId: null, canaryWeight: 0 },
    });
    await setVersionStage(trx, demote.id, 'rolled_back', `rolled back to v${restore.version} by ${request.approver}: ${request.reason}`);
    await setVersionStage(trx, restore.id, 'champion', `restored by ${request.approver} (rollback of v${demote.version}): ${request.reason}`);
    await recordApprovalEvent(trx, {
      workflowId: request.workflowId,
      eventKey: `rollback/${request.runId}`,
      model,
      modelVersionId: demote.id,
      action: 'rollback',
      approver: request.approver,
      reason: request.reason,
    });
    return { changed: true, model, demotedVersion: demote.version, championVersion: restore.version, revision: after.revision, message: rolledBackMessage(model, demote.version, restore.version, after.revision, request) };
  });
}

function fact(version: ModelVersion): VersionFact {
  return { id: version.id, version: version.version, stage: version.stage };
}

function rolledBackMessage(model: string, demoted: number | null, restored: number, revision: number, request: ChampionRollbackRequest): string {
  return `${model} v${demoted ?? '?'} rolled back: v${restored} is the champion again (deployment revision ${revision}), asked by ${request.approver}: ${request.reason}`;
}
