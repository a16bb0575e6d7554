import type { ModelSpec } from '../lib/spec/model-spec';
import { evaluateOffline, type OfflineEvaluationResult } from '../lib/evaluation/offline-evaluation';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

export function createEvaluateActivities(deps: ActivityDeps) {
  return {
    /** Scores candidate and champion on the same held-out snapshot. */
    async evaluateOffline(input: { spec: ModelSpec; candidateVersionId: string; holdoutDatasetId: string; workflowId: string }): Promise<OfflineEvaluationResult> {
      return heartbeatWhile({ phase: 'scoring' }, () => evaluateOffline(deps, input));
    },
  };
}
