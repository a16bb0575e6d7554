import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { ModelSpec } from '../lib/spec/model-spec';
import { trainCandidate, type HumanLabelsUse, type TrainingHeartbeat } from '../lib/training/candidate-training';
import { assessTrainingContext, type AssessedTrainingContext } from '../lib/training/training-context';
import type { TrainingModeDecision } from '../lib/policy/training-mode';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

export interface TrainModelResult {
  id: string;
  version: number;
  artifactKey: string;
  artifactSha256: string;
  reused: boolean;
  /** The epoch this attempt resumed from after an earlier attempt died (0: started fresh). */
  resumedFromEpoch: number;
  rows: number;
  finalLoss: number | null;
  logsKey: string | null;
  /** How labels from people entered training (models with `labels`); absent otherwise. */
  humanLabels?: HumanLabelsUse;
}

export function createTrainModelActivities(deps: ActivityDeps) {
  return {
    /** Facts for the fine-tune-or-scratch policy: champion, run history, feature drift. */
    async assessTrainingContext(input: { spec: ModelSpec; datasetIds: string[]; day: string }): Promise<AssessedTrainingContext> {
      return heartbeatWhile({ phase: 'drift' }, () => assessTrainingContext(deps, input));
    },

    /**
     * Trains and registers a candidate. Heartbeats every epoch with a checkpoint
     * in S3; a retried attempt (e.g. after a worker crash) resumes from it.
     */
    async trainModel(input: {
      spec: ModelSpec;
      datasetIds: string[];
      day: string;
      decision: TrainingModeDecision;
      context: AssessedTrainingContext;
      workflowId: string;
      /** Labeling batches whose resolved labels replace the natural label of their rows. */
      labelBatchIds?: string[];
    }): Promise<TrainModelResult> {
      const lastHeartbeat = activityInfo().heartbeatDetails as TrainingHeartbeat | undefined;
      const result = await trainCandidate(deps, input, { heartbeat: (details) => heartbeat(details), lastHeartbeat, signal: cancellationSignal() });
      const { version } = result;
      return {
        id: version.id,
        version: version.version,
        artifactKey: version.artifactKey,
        artifactSha256: version.artifactSha256,
        reused: result.reused,
        resumedFromEpoch: result.resumedFromEpoch,
        rows: result.rows,
        finalLoss: result.finalLoss,
        logsKey: result.logsKey,
        ...(result.humanLabels ? { humanLabels: result.humanLabels } : {}),
      };
    },
  };
}
