import { sql } from 'kysely';
import type { DbExecutor } from '../executor';
import type { DeploymentTraffic } from './deployments';

/** A recorded deployment change that replaced a model's champion. */
export interface ChampionChange {
  revision: number;
  changeKey: string;
  previousChampionId: string | null;
  championId: string | null;
  reason: string;
  workflowId: string | null;
  createdAt: Date;
}

type Row = { revision: string; change_key: string; before: DeploymentTraffic; after: DeploymentTraffic; reason: string; workflow_id: string | null; created_at: Date };

function toChampionChange(row: Row): ChampionChange {
  return {
    revision: Number(row.revision),
    changeKey: row.change_key,
    previousChampionId: row.before.championVersionId ?? null,
    championId: row.after.championVersionId ?? null,
    reason: row.reason,
    workflowId: row.workflow_id,
    createdAt: row.created_at,
  };
}

/** The latest change of the model's deployment that put another version in the champion's place (promotions and rollbacks). */
export async function findLastChampionChange(db: DbExecutor, model: string): Promise<ChampionChange | undefined> {
  const { rows } = await sql<Row>`
    select revision, change_key, before, after, reason, workflow_id, created_at from deployment_changes
    where model = ${model} and (after ->> 'championVersionId') is distinct from (before ->> 'championVersionId')
    order by revision desc limit 1
  `.execute(db);
  return rows[0] && toChampionChange(rows[0]);
}

/** The change recorded under this key, when it was applied. */
export async function findDeploymentChangeByKey(db: DbExecutor, model: string, changeKey: string): Promise<ChampionChange | undefined> {
  const { rows } = await sql<Row>`
    select revision, change_key, before, after, reason, workflow_id, created_at from deployment_changes
    where model = ${model} and change_key = ${changeKey}
  `.execute(db);
  return rows[0] && toChampionChange(rows[0]);
}
