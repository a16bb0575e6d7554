import type { ModelVersionStage, VersionStageEventRow } from '../schema';
import type { DbExecutor } from '../executor';

/**
 * The kept history of version stages (table version_stage_events, append-only): one row per
 * stage change and per registration, written by setVersionStage and insertModelVersion in the
 * transaction that changes the stage, so the history and `model_versions.stage` never disagree.
 */

export interface VersionStageEvent {
  id: string;
  modelVersionId: string;
  model: string;
  version: number;
  /** Null for a version's first event: its registration, or the row the migration backfilled. */
  fromStage: ModelVersionStage | null;
  toStage: ModelVersionStage;
  reason: string;
  workflowId: string | null;
  /** The migration's row for a version registered before the history was kept (its stage then). */
  backfilled: boolean;
  createdAt: Date;
}

export interface NewVersionStageEvent {
  modelVersionId: string;
  model: string;
  version: number;
  fromStage: ModelVersionStage | null;
  toStage: ModelVersionStage;
  reason: string;
  workflowId?: string | null;
}

function toEvent(row: VersionStageEventRow): VersionStageEvent {
  return {
    id: String(row.id),
    modelVersionId: String(row.model_version_id),
    model: row.model,
    version: row.version,
    fromStage: row.from_stage,
    toStage: row.to_stage,
    reason: row.reason,
    workflowId: row.workflow_id,
    backfilled: row.backfilled,
    createdAt: row.created_at,
  };
}

/** Appends one event; call it in the transaction that changes the stage. */
export async function appendStageEvent(db: DbExecutor, event: NewVersionStageEvent): Promise<void> {
  await db
    .insertInto('version_stage_events')
    .values({
      model_version_id: event.modelVersionId,
      model: event.model,
      version: event.version,
      from_stage: event.fromStage,
      to_stage: event.toStage,
      reason: event.reason,
      workflow_id: event.workflowId ?? null,
    })
    .execute();
}

/** Every event of a model's versions, by version, oldest first. */
export async function listStageEvents(db: DbExecutor, model: string): Promise<VersionStageEvent[]> {
  const rows = await db.selectFrom('version_stage_events').selectAll().where('model', '=', model).orderBy('version').orderBy('id').execute();
  return rows.map(toEvent);
}

/**
 * The latest event of each stage each version of the model went through, by version, in the
 * order the stages were last entered: what `retrain status` shows (a version that went
 * candidate → shadow → candidate → canary lists shadow, candidate, canary).
 */
export async function latestEventPerStage(db: DbExecutor, model: string): Promise<VersionStageEvent[]> {
  const latest = new Map<string, VersionStageEvent>();
  for (const event of await listStageEvents(db, model)) {
    latest.set(`${event.modelVersionId}/${event.toStage}`, event);
  }
  return [...latest.values()].sort((a, b) => a.version - b.version || Number(a.id) - Number(b.id));
}
