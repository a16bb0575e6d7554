import { insertEvaluation, recordEvaluationVerdict } from '../lib/db/repositories/evaluations';
import { getModelVersion } from '../lib/db/repositories/model-versions';
import type { ShadowObservation, ShadowVerdict } from '../lib/policy/shadow-gates';
import type { ShadowSpec } from '../lib/spec/model-spec';
import { countMirroredRequests, observeShadow } from '../lib/promotion/shadow-observation';
import { databaseNow, startShadow, stopShadow } from '../lib/promotion/traffic-moves';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

export function createShadowActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Mirrors all traffic to the candidate; returns the database time the mirror started. */
    async startShadow(input: { versionId: string; workflowId: string }): Promise<{ since: string }> {
      return startShadow(db, { ...input, step: 'shadow-start', reason: 'shadow evaluation started' });
    },

    async countMirroredRequests(input: { model: string; candidateVersionId: string; since: string }): Promise<{ requests: number; now: string }> {
      return { requests: await countMirroredRequests(db, input), now: await databaseNow(db) };
    },

    /** `bootstrap`: the spec's settings of the paired bootstrap (absent from workflows started before it was passed: the defaults). */
    async observeShadow(input: { model: string; candidateVersionId: string; since: string; until: string; bootstrap?: ShadowSpec['bootstrap'] }): Promise<ShadowObservation> {
      return heartbeatWhile({ step: 'observe-shadow' }, () => observeShadow(db, input));
    },

    /** Stops the mirror and stores the shadow evaluation with its verdict (once per run). */
    async finishShadow(input: {
      versionId: string;
      holdoutDatasetId: string;
      championVersionId: string | null;
      observation: ShadowObservation;
      verdict: ShadowVerdict;
      workflowId: string;
    }): Promise<{ evaluationId: string }> {
      await stopShadow(db, { versionId: input.versionId, workflowId: input.workflowId, step: 'shadow-stop', reason: input.verdict.reason, passed: input.verdict.passed });
      const version = await getModelVersion(db, input.versionId);
      const evaluation = await insertEvaluation(db, {
        modelVersionId: version.id,
        kind: 'shadow',
        // Shadow evaluations are keyed to the run's holdout dataset, so a repeated run finds its own.
        datasetId: input.holdoutDatasetId,
        championVersionId: input.championVersionId,
        metrics: { observation: input.observation, checks: input.verdict.checks },
        championMetrics: null,
        report: null,
        workflowId: input.workflowId,
      });
      await recordEvaluationVerdict(db, evaluation.id, input.verdict.passed, input.verdict.reason);
      return { evaluationId: evaluation.id };
    },
  };
}
