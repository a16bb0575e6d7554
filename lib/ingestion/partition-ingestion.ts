import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../spec/model-spec';
import type { Database } from '../db/schema';
import { findDataset, insertDataset, type DatasetSnapshot } from '../db/repositories/datasets';
import type { ArtifactStore } from '../store/artifact-store';
import { fetchPartition } from '../data/partition-source';
import { assertValidPartition, validatePartition } from './schema-validation';
import { writeSnapshot } from './snapshot-writer';

export interface PartitionIngestionDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  /** Bucket and client for S3 sources (the default bucket when the spec names none). */
  sourceS3: { client: S3Client; bucket: string };
  workDir: string;
}

/** A validated partition written to the store, not yet registered in Postgres. */
export interface PartitionSnapshot {
  day: string;
  sourceHash: string;
  snapshotKey: string;
  snapshotSha256: string;
  sizeBytes: number;
  rowCount: number;
  columnStats: unknown;
  /** Set when a dataset of exactly this source content is registered already. */
  existingDatasetId?: string;
}

/** A registered dataset as a run's result names it. */
export interface DatasetSummary {
  id: string;
  day: string;
  rowCount: number;
  snapshotKey: string;
  /** True when this run found an existing snapshot of the same content instead of writing one. */
  reused: boolean;
}

/**
 * Validates one source partition and writes it as an immutable Parquet snapshot
 * keyed by its content hash. Invalid data throws before anything is written;
 * the same content twice finds the registered dataset instead of writing again.
 */
export async function snapshotPartition(deps: PartitionIngestionDeps, input: { spec: ModelSpec; day: string }): Promise<PartitionSnapshot> {
  const { spec, day } = input;
  const dir = await mkdtemp(path.join(deps.workDir, `ingest-${spec.name}-${day}-`));
  try {
    const s3 = spec.source.kind === 's3' ? { client: deps.sourceS3.client, bucket: spec.source.bucket ?? deps.sourceS3.bucket } : undefined;
    const fetched = await fetchPartition(spec.source, spec.partition.column, day, dir, s3);
    const existing = await findDataset(deps.db, spec.name, day, fetched.sourceHash);
    if (existing) {
      return {
        day,
        sourceHash: existing.sourceHash,
        snapshotKey: existing.snapshotKey,
        snapshotSha256: existing.snapshotSha256,
        sizeBytes: existing.sizeBytes,
        rowCount: existing.rowCount,
        columnStats: null,
        existingDatasetId: existing.id,
      };
    }

    const report = await validatePartition(fetched.files, spec.source.format, spec.schema.columns);
    assertValidPartition(report, `partition ${spec.partition.column}=${day} of ${spec.name}`);

    const snapshotFile = path.join(dir, 'snapshot.parquet');
    const { rowCount } = await writeSnapshot(fetched.files, spec.source.format, spec.schema.columns, snapshotFile);
    const ref = await deps.store.putFile(`datasets/${spec.name}/${day}`, snapshotFile, '.parquet');
    return { day, sourceHash: fetched.sourceHash, snapshotKey: ref.key, snapshotSha256: ref.sha256, sizeBytes: ref.size, rowCount, columnStats: report.columns };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Registers the snapshots of one run in a single transaction, so a run whose
 * data fails validation anywhere registers none of it. Repeats are no-ops.
 */
export async function registerDatasets(
  db: Kysely<Database>,
  input: { model: string; snapshots: PartitionSnapshot[]; workflowId: string },
): Promise<Array<{ dataset: DatasetSnapshot; created: boolean }>> {
  return db.transaction().execute(async (trx) => {
    const registered: Array<{ dataset: DatasetSnapshot; created: boolean }> = [];
    for (const snapshot of input.snapshots) {
      registered.push(
        await insertDataset(trx, {
          model: input.model,
          partitionDay: snapshot.day,
          sourceHash: snapshot.sourceHash,
          snapshotKey: snapshot.snapshotKey,
          snapshotSha256: snapshot.snapshotSha256,
          sizeBytes: snapshot.sizeBytes,
          rowCount: snapshot.rowCount,
          columnStats: snapshot.columnStats,
          workflowId: input.workflowId,
        }),
      );
    }
    return registered;
  });
}
