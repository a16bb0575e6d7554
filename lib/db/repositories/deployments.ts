import { sql } from 'kysely';
import { parseServingContract, type ServingContract } from '../../spec/serving-contract';
import type { DeploymentChangeRow, DeploymentRow } from '../schema';
import type { DbExecutor } from '../executor';
import { ModelNotFoundError, ModelVersionNotFoundError } from '../not-found-errors';

/** The Postgres channel a deployment change is announced on; the payload is the model name. */
export const DEPLOYMENTS_CHANNEL = 'retrain_deployments';

/** Which versions take a model's traffic. */
export interface DeploymentTraffic {
  championVersionId: string | null;
  canaryVersionId: string | null;
  /** Share of requests (0..1) routed to the canary; the rest go to the champion. */
  canaryWeight: number;
  /** Receives a mirror of every request; its predictions are logged, never returned. */
  shadowVersionId: string | null;
}

export interface Deployment extends DeploymentTraffic {
  model: string;
  /** Bumped by every applied change. */
  revision: number;
  updatedBy: string;
  updatedAt: Date;
}

export interface DeploymentChange {
  id: string;
  model: string;
  /** The deployment's revision after this change. */
  revision: number;
  before: DeploymentTraffic;
  after: DeploymentTraffic;
  reason: string;
  changeKey: string;
  workflowId: string | null;
  createdAt: Date;
}

export interface DeploymentChangeInput {
  model: string;
  /** Names the change, e.g. `<workflowId>/canary-5%`: a change whose key was applied before is skipped. */
  changeKey: string;
  reason: string;
  workflowId?: string | null;
  /** Who asked for the change; defaults to the workflow id, else "manual". */
  updatedBy?: string;
  /** Fields to change; the others keep their values. */
  set: Partial<DeploymentTraffic>;
}

/** A deployment with what a gateway needs to serve it: each referenced version's artifact and serving contract. */
export interface ServedDeployment extends Deployment {
  versions: ServedVersionRef[];
}

export interface ServedVersionRef {
  id: string;
  version: number;
  artifactKey: string;
  artifactSha256: string;
  /** The version's serving contract as stored (unparsed: the gateway validates it), never the model's latest spec. */
  contract: unknown;
}

const TRAFFIC_KEYS = ['championVersionId', 'canaryVersionId', 'canaryWeight', 'shadowVersionId'] as const;

function toDeployment(row: DeploymentRow): Deployment {
  return {
    model: row.model,
    championVersionId: row.champion_version_id === null ? null : String(row.champion_version_id),
    canaryVersionId: row.canary_version_id === null ? null : String(row.canary_version_id),
    canaryWeight: Number(row.canary_weight),
    shadowVersionId: row.shadow_version_id === null ? null : String(row.shadow_version_id),
    revision: Number(row.revision),
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

function trafficOf(d: DeploymentTraffic): DeploymentTraffic {
  return { championVersionId: d.championVersionId, canaryVersionId: d.canaryVersionId, canaryWeight: d.canaryWeight, shadowVersionId: d.shadowVersionId };
}

function toDeploymentChange(row: DeploymentChangeRow): DeploymentChange {
  return {
    id: row.id,
    model: row.model,
    revision: Number(row.revision),
    before: row.before as DeploymentTraffic,
    after: row.after as DeploymentTraffic,
    reason: row.reason,
    changeKey: row.change_key,
    workflowId: row.workflow_id,
    createdAt: row.created_at,
  };
}

export async function getDeployment(db: DbExecutor, model: string): Promise<Deployment | undefined> {
  const row = await db.selectFrom('deployments').selectAll().where('model', '=', model).executeTakeFirst();
  return row && toDeployment(row);
}

/** A model's recorded traffic changes, oldest first. */
export async function listDeploymentChanges(db: DbExecutor, model: string): Promise<DeploymentChange[]> {
  const rows = await db.selectFrom('deployment_changes').selectAll().where('model', '=', model).orderBy('revision').orderBy('id').execute();
  return rows.map(toDeploymentChange);
}

/**
 * Deployments (all, or one model's) with the artifact and serving contract of every version
 * they reference: one round trip for a gateway (re)load. The model's spec is not read: what a
 * run started with a changed spec stores there never changes what is served.
 */
export async function listServedDeployments(db: DbExecutor, model?: string): Promise<ServedDeployment[]> {
  let query = db
    .selectFrom('deployments as d')
    .selectAll('d')
    .select(
      sql<ServedVersionRef[]>`coalesce((
        select jsonb_agg(jsonb_build_object('id', v.id::text, 'version', v.version, 'artifactKey', v.artifact_key, 'artifactSha256', v.artifact_sha256, 'contract', v.contract))
        from model_versions v where v.id in (d.champion_version_id, d.canary_version_id, d.shadow_version_id)
      ), '[]'::jsonb)`.as('versions'),
    );
  if (model !== undefined) query = query.where('d.model', '=', model);
  const rows = await query.orderBy('d.model').execute();
  return rows.map(({ versions, ...row }) => ({ ...toDeployment(row), versions }));
}

/** The version that serves a model's traffic (its deployment's champion) with its serving contract; undefined when none does. */
export async function findServingChampion(db: DbExecutor, model: string): Promise<{ id: string; version: number; contract: ServingContract } | undefined> {
  const row = await db
    .selectFrom('deployments as d')
    .innerJoin('model_versions as v', 'v.id', 'd.champion_version_id')
    .select(['v.id', 'v.version', 'v.contract'])
    .where('d.model', '=', model)
    .executeTakeFirst();
  return row && { id: String(row.id), version: row.version, contract: parseServingContract(row.contract, `${model} v${row.version}`) };
}

/**
 * Applies one traffic change in one transaction: locks the model's deployment row (created
 * on first use), skips the change if its key was applied before, updates the row, bumps the
 * revision, records the change and announces it with NOTIFY (delivered on commit).
 * Version ids must belong to the model; a canary weight must lie in [0, 1].
 *
 * @example
 * await applyDeploymentChange(db, {
 *   model: 'flight-delay', changeKey: `${workflowId}/canary-5%`, reason: 'canary stage 2 of 5', workflowId,
 *   set: { canaryVersionId: candidate.id, canaryWeight: 0.05 },
 * });
 */
export async function applyDeploymentChange(db: DbExecutor, input: DeploymentChangeInput): Promise<{ deployment: Deployment; applied: boolean }> {
  const weight = input.set.canaryWeight;
  if (weight !== undefined && !(weight >= 0 && weight <= 1)) throw new Error(`canary weight must be between 0 and 1, got ${weight}`);
  if (!input.changeKey) throw new Error('a deployment change needs a change key');
  const run = async (trx: DbExecutor) => {
    const model = await trx.selectFrom('models').select('name').where('name', '=', input.model).executeTakeFirst();
    if (!model) throw new ModelNotFoundError(input.model);
    const updatedBy = input.updatedBy ?? input.workflowId ?? 'manual';
    await trx.insertInto('deployments').values({ model: input.model, updated_by: updatedBy }).onConflict((oc) => oc.column('model').doNothing()).execute();
    const current = toDeployment(await trx.selectFrom('deployments').selectAll().where('model', '=', input.model).forUpdate().executeTakeFirstOrThrow());
    const seen = await trx
      .selectFrom('deployment_changes')
      .select('id')
      .where('model', '=', input.model)
      .where('change_key', '=', input.changeKey)
      .executeTakeFirst();
    if (seen) return { deployment: current, applied: false };

    const ids = [input.set.championVersionId, input.set.canaryVersionId, input.set.shadowVersionId].filter((id): id is string => typeof id === 'string');
    if (ids.length > 0) {
      const found = await trx.selectFrom('model_versions').select(['id', 'model']).where('id', 'in', ids).execute();
      for (const id of ids) {
        const version = found.find((v) => String(v.id) === id);
        if (!version) throw new ModelVersionNotFoundError(id);
        if (version.model !== input.model) throw new Error(`model version ${id} belongs to '${version.model}', not '${input.model}'`);
      }
    }

    const before = trafficOf(current);
    const after = { ...before };
    for (const key of TRAFFIC_KEYS) {
      const value = input.set[key];
      if (value !== undefined) (after as Record<string, unknown>)[key] = value;
    }
    const revision = current.revision + 1;
    const row = await trx
      .updateTable('deployments')
      .set({
        champion_version_id: after.championVersionId,
        canary_version_id: after.canaryVersionId,
        canary_weight: after.canaryWeight,
        shadow_version_id: after.shadowVersionId,
        revision: String(revision),
        updated_by: updatedBy,
        updated_at: new Date(),
      })
      .where('model', '=', input.model)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('deployment_changes')
      .values({
        model: input.model,
        revision: String(revision),
        before: JSON.stringify(before),
        after: JSON.stringify(after),
        reason: input.reason,
        change_key: input.changeKey,
        workflow_id: input.workflowId ?? null,
      })
      .execute();
    await sql`select pg_notify(${DEPLOYMENTS_CHANNEL}, ${input.model})`.execute(trx);
    return { deployment: toDeployment(row), applied: true };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}
