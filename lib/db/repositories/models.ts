import { parseRecordedModelSpec, type ModelSpec } from '../../spec/model-spec';
import type { DbExecutor } from '../executor';

/** Creates the model or refreshes its spec; the spec used by each run is also kept in that run's history. */
export async function upsertModel(db: DbExecutor, spec: ModelSpec, workflowId: string): Promise<void> {
  await db
    .insertInto('models')
    .values({ name: spec.name, spec: JSON.stringify(spec), workflow_id: workflowId })
    .onConflict((oc) => oc.column('name').doUpdateSet({ spec: JSON.stringify(spec), workflow_id: workflowId, updated_at: new Date() }))
    .execute();
}

/**
 * The spec a model was last run with, validated again; undefined when the model is unknown.
 * It was accepted when recorded, so fields this version no longer knows are dropped, not refused.
 */
export async function getModelSpec(db: DbExecutor, name: string): Promise<ModelSpec | undefined> {
  const row = await db.selectFrom('models').select('spec').where('name', '=', name).executeTakeFirst();
  return row && parseRecordedModelSpec(row.spec, `spec of model '${name}' in the database`);
}
