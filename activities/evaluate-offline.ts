import { heartbeat } from '@temporalio/activity';
import type { ModelSpec } from '../lib/spec/model-spec';
import { evaluateOffline, type OfflineEvaluationResult } from '../lib/evaluation/offline-evaluation';
import type { ActivityDeps } from './activity-deps';

export function createEvaluateActivities(deps: ActivityDeps) {
  return {
    /** Scores candidate and champion on the same held-out snapshot. */
    async evaluateOffline(input: { spec: ModelSpec; candidateVersionId: string; holdoutDatasetId: string; workflowId: string }): Promise<OfflineEvaluationResult> {
      heartbeat({ phase: 'scoring' });
      return evaluateOffline(deps, input);
    },
  };
}
