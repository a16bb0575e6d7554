import type { CanarySpec } from '../lib/spec/model-spec';
import type { CanaryObservation } from '../lib/policy/canary-stage-analysis';
import { observeCanary } from '../lib/promotion/canary-observation';
import { crownChampion, databaseNow, rollbackCanary, setCanaryWeight } from '../lib/promotion/traffic-moves';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

export function createCanaryActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Routes `percent` of the traffic to the candidate; returns the database time the stage started. */
    async setCanaryTraffic(input: { versionId: string; percent: number; stage: number; stages: number; workflowId: string }): Promise<{ since: string }> {
      return setCanaryWeight(db, {
        versionId: input.versionId,
        workflowId: input.workflowId,
        weight: input.percent / 100,
        step: `canary-${input.percent}%`,
        reason: `canary stage ${input.stage} of ${input.stages}: ${input.percent}% of traffic`,
      });
    },

    async observeCanaryStage(input: {
      model: string;
      canaryVersionId: string;
      championVersionId: string;
      stageSince: string;
      canarySince: string;
      spec: CanarySpec;
    }): Promise<{ observation: CanaryObservation; now: string }> {
      return heartbeatWhile({ step: 'observe-canary' }, async () => ({ observation: await observeCanary(db, input), now: await databaseNow(db) }));
    },

    /**
     * All traffic back to the champion at once; the candidate becomes rolled_back with the reason.
     * A rollback someone asked for names them (`requestedBy`): its change key ends in
     * `/rollback-requested` and the deployment is updated by them; an automatic one (failed
     * analysis) ends in `/rollback` and is updated by the workflow.
     */
    async rollbackCanary(input: { versionId: string; reason: string; workflowId: string; requestedBy?: string }): Promise<void> {
      await rollbackCanary(db, {
        versionId: input.versionId,
        workflowId: input.workflowId,
        step: input.requestedBy ? 'rollback-requested' : 'rollback',
        reason: input.reason,
        updatedBy: input.requestedBy,
      });
    },

    /** The canary passed every stage: it becomes the champion and the old champion is archived. */
    async completeCanary(input: { versionId: string; reason: string; workflowId: string }): Promise<{ championVersion: number }> {
      return crownChampion(db, { versionId: input.versionId, workflowId: input.workflowId, step: 'canary-complete', reason: input.reason });
    },
  };
}
