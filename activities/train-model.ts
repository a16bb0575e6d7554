import { heartbeat } from '@temporalio/activity';
import type { ModelSpec } from '../lib/config/model-spec';
import { trainCandidate } from '../lib/ml/candidate-training';
import type { ActivityDeps } from './activity-deps';
import { failPermanentlyOn } from './permanent-failure';

export interface TrainModelResult {
  id: string;
  version: number;
  artifactKey: string;
  artifactSha256: string;
  reused: boolean;
  trainingMode: { mode: string; reason: string };
  rows: number;
  finalLoss: number | null;
}

export function createTrainActivities(deps: ActivityDeps) {
  return {
    /** Trains and registers a candidate version; heartbeats after every epoch. */
    async trainModel(input: { spec: ModelSpec; datasetIds: string[]; workflowId: string }): Promise<TrainModelResult> {
      heartbeat({ phase: 'loading' });
      const result = await failPermanentlyOn(() => trainCandidate(deps, input, (progress) => heartbeat(progress)));
      const { version } = result;
      return {
        id: version.id,
        version: version.version,
        artifactKey: version.artifactKey,
        artifactSha256: version.artifactSha256,
        reused: result.reused,
        trainingMode: result.trainingMode,
        rows: result.rows,
        finalLoss: result.finalLoss,
      };
    },
  };
}
