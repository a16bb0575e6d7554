import type { ModelSpec } from '../../config/model-spec';
import type { DbExecutor } from './executor';

/** Creates the model or refreshes its spec; the spec used by each run is also kept in that run's history. */
export async function upsertModel(db: DbExecutor, spec: ModelSpec, workflowId: string): Promise<void> {
  await db
    .insertInto('models')
    .values({ name: spec.name, spec: JSON.stringify(spec), workflow_id: workflowId })
    .onConflict((oc) => oc.column('name').doUpdateSet({ spec: JSON.stringify(spec), workflow_id: workflowId, updated_at: new Date() }))
    .execute();
}
