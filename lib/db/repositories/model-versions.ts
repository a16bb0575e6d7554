import { sql } from 'kysely';
import { parseServingContract, type ServingContract } from '../../spec/serving-contract';
import type { ModelVersionRow, ModelVersionStage } from '../schema';
import type { DbExecutor } from '../executor';
import { inTransaction } from '../in-transaction';
import { ModelVersionNotFoundError } from '../not-found-errors';
import { appendStageEvent } from './version-stage-events';

export interface ModelVersion {
  id: string;
  model: string;
  version: number;
  trainingRunId: string;
  artifactKey: string;
  artifactSha256: string;
  artifactSize: number;
  stage: ModelVersionStage;
  stageReason: string;
  /** Hash of features, label and trainer kind; a warm start needs the same one. */
  trainingSignature: string;
  /** The built-in trainer's weights (JSON) for warm starts; null for external trainers. */
  weights: { key: string; sha256: string } | null;
  /** What the gateway validates requests for this version against, fixed at registration (lib/spec/serving-contract.ts). */
  contract: ServingContract;
  workflowId: string;
  createdAt: Date;
}

export type NewModelVersion = Pick<
  ModelVersion,
  'model' | 'trainingRunId' | 'artifactKey' | 'artifactSha256' | 'artifactSize' | 'trainingSignature' | 'weights' | 'contract' | 'workflowId'
>;

function toModelVersion(row: ModelVersionRow): ModelVersion {
  return {
    id: row.id,
    model: row.model,
    version: row.version,
    trainingRunId: row.training_run_id,
    artifactKey: row.artifact_key,
    artifactSha256: row.artifact_sha256,
    artifactSize: Number(row.artifact_size),
    stage: row.stage,
    stageReason: row.stage_reason,
    trainingSignature: row.training_signature,
    weights: row.weights_key && row.weights_sha256 ? { key: row.weights_key, sha256: row.weights_sha256 } : null,
    contract: parseServingContract(row.contract, `${row.model} v${row.version}`),
    workflowId: row.workflow_id,
    createdAt: row.created_at,
  };
}

export async function getModelVersion(db: DbExecutor, id: string): Promise<ModelVersion> {
  const row = await db.selectFrom('model_versions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new ModelVersionNotFoundError(id);
  return toModelVersion(row);
}

export async function findVersionByTrainingRun(db: DbExecutor, trainingRunId: string): Promise<ModelVersion | undefined> {
  const row = await db.selectFrom('model_versions').selectAll().where('training_run_id', '=', trainingRunId).executeTakeFirst();
  return row && toModelVersion(row);
}

export async function findVersionByNumber(db: DbExecutor, model: string, version: number): Promise<ModelVersion | undefined> {
  const row = await db.selectFrom('model_versions').selectAll().where('model', '=', model).where('version', '=', version).executeTakeFirst();
  return row && toModelVersion(row);
}

export async function findChampion(db: DbExecutor, model: string): Promise<ModelVersion | undefined> {
  const row = await db.selectFrom('model_versions').selectAll().where('model', '=', model).where('stage', '=', 'champion').executeTakeFirst();
  return row && toModelVersion(row);
}

export async function listModelVersions(db: DbExecutor, model: string): Promise<ModelVersion[]> {
  const rows = await db.selectFrom('model_versions').selectAll().where('model', '=', model).orderBy('version').execute();
  return rows.map(toModelVersion);
}

/**
 * Registers a candidate with the next version number of its model and its serving contract. Numbers are
 * allocated under a row lock on the model (call inside a transaction), so concurrent pipelines never collide.
 */
export async function insertModelVersion(db: DbExecutor, version: NewModelVersion): Promise<ModelVersion> {
  await db.selectFrom('models').select('name').where('name', '=', version.model).forUpdate().executeTakeFirstOrThrow();
  const { next } = await db
    .selectFrom('model_versions')
    .select(sql<number>`coalesce(max(version), 0) + 1`.as('next'))
    .where('model', '=', version.model)
    .executeTakeFirstOrThrow();
  const row = await db
    .insertInto('model_versions')
    .values({
      model: version.model,
      version: Number(next),
      training_run_id: version.trainingRunId,
      artifact_key: version.artifactKey,
      artifact_sha256: version.artifactSha256,
      artifact_size: String(version.artifactSize),
      stage: 'candidate',
      training_signature: version.trainingSignature,
      weights_key: version.weights?.key ?? null,
      weights_sha256: version.weights?.sha256 ?? null,
      contract: JSON.stringify(parseServingContract(version.contract, `a new version of ${version.model}`)),
      workflow_id: version.workflowId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await appendStageEvent(db, {
    modelVersionId: String(row.id),
    model: row.model,
    version: row.version,
    fromStage: null,
    toStage: 'candidate',
    reason: `registered by training run ${version.trainingRunId}`,
    workflowId: version.workflowId,
  });
  return toModelVersion(row);
}

/**
 * Moves a version to `stage` with the reason, and appends the change to its kept history
 * (version_stage_events) in the same transaction: the caller's, or one of its own. A version
 * already in that stage for that reason is left as it is (a retried activity appends nothing).
 */
export async function setVersionStage(db: DbExecutor, id: string, stage: ModelVersionStage, reason: string, options: { workflowId?: string | null } = {}): Promise<void> {
  await inTransaction(db, async (trx) => {
    const current = await trx.selectFrom('model_versions').select(['model', 'version', 'stage', 'stage_reason']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw new ModelVersionNotFoundError(id);
    if (current.stage === stage && current.stage_reason === reason) return;
    await trx.updateTable('model_versions').set({ stage, stage_reason: reason, updated_at: new Date() }).where('id', '=', id).execute();
    await appendStageEvent(trx, { modelVersionId: id, model: current.model, version: current.version, fromStage: current.stage, toStage: stage, reason, workflowId: options.workflowId });
  });
}
