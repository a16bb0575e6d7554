import type { ModelSpec } from '../lib/spec/model-spec';
import { registerDatasets, snapshotPartition, type DatasetSummary, type PartitionSnapshot } from '../lib/ingestion/partition-ingestion';
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
      const registered = await registerDatasets(deps.db, input);
      return registered.map(({ dataset, created }) => ({
        id: dataset.id,
        day: dataset.partitionDay,
        rowCount: dataset.rowCount,
        snapshotKey: dataset.snapshotKey,
        reused: !created,
      }));
    },
  };
}
