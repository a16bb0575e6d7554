import type { ModelSpec } from '../lib/spec/model-spec';
import { registerDatasets, snapshotPartition, summarizeDatasets, type DatasetSummary, type PartitionSnapshot } from '../lib/ingestion/partition-ingestion';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

export function createIngestActivities(deps: ActivityDeps) {
  return {
    /** Validates one source partition and writes its content-addressed snapshot. */
    async ingestPartition(input: { spec: ModelSpec; day: string }): Promise<PartitionSnapshot> {
      return heartbeatWhile({ day: input.day }, () => snapshotPartition(deps, input));
    },

    /** Records every snapshot of the run at once; a snapshot already recorded is reused. */
    async registerDatasets(input: { model: string; snapshots: PartitionSnapshot[]; workflowId: string }): Promise<DatasetSummary[]> {
      return summarizeDatasets(input.snapshots, await registerDatasets(deps.db, input));
    },
  };
}
