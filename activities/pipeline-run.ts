import type { ModelSpec } from '../lib/spec/model-spec';
import { upsertModel } from '../lib/db/repositories/models';
import { finishPipelineRun, startPipelineRun } from '../lib/db/repositories/pipeline-runs';
import type { ActivityDeps } from './activity-deps';

export function createPipelineRunActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Registers the model's current spec and marks the run as started. */
    async recordPipelineStart(input: { spec: ModelSpec; day: string; workflowId: string; runId: string }): Promise<void> {
      await upsertModel(db, input.spec, input.workflowId);
      await startPipelineRun(db, { workflowId: input.workflowId, runId: input.runId, model: input.spec.name, windowDay: input.day });
    },

    async recordPipelineFinish(input: {
      workflowId: string;
      runId: string;
      outcome: { status: 'succeeded'; result: unknown } | { status: 'failed'; error: string };
    }): Promise<void> {
      await finishPipelineRun(db, { workflowId: input.workflowId, runId: input.runId }, input.outcome);
    },
  };
}
