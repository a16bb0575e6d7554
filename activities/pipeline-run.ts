import type { ModelSpec } from '../lib/spec/model-spec';
import { upsertModel } from '../lib/db/repositories/models';
import { finishPipelineRun, startPipelineRun } from '../lib/db/repositories/pipeline-runs';
import { admitPipelineRun } from '../lib/promotion/run-admission';
import type { ActivityDeps } from './activity-deps';

export function createPipelineRunActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * Admits the run (lib/promotion/run-admission.ts: a spec that would break the serving
     * champion's clients is refused unless the run is marked as a breaking change, and so is
     * one that names approvers the model's approver policy does not configure), then
     * registers the model's spec and marks the run as started. A refused run writes nothing.
     * The stored spec is the latest admitted run's; the gateway never reads it (it serves each
     * version's own contract), so a run that fails later changes nothing clients see.
     */
    async recordPipelineStart(input: { spec: ModelSpec; day: string; workflowId: string; runId: string; breakingChange?: boolean }): Promise<void> {
      await admitPipelineRun(db, { spec: input.spec, breakingChange: input.breakingChange === true });
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
