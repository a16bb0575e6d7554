import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Kysely } from 'kysely';
import { duplicateRuleOf, type DuplicateRule, type ModelSpec } from '../spec/model-spec';
import type { Database } from '../db/schema';
import { findDataset, insertDataset, type DatasetSnapshot } from '../db/repositories/datasets';
import type { ArtifactStore } from '../store/artifact-store';
import { fetchPartition } from '../data/partition-source';
import { assertValidPartition, validatePartition, type ColumnStats } from './schema-validation';
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
  /**
   * The dataset's identity: the hash of the source content, or, when duplicate rows were
   * dropped, a hash of it and the rule (that snapshot holds other rows than the source).
   */
  sourceHash: string;
  snapshotKey: string;
  snapshotSha256: string;
  sizeBytes: number;
  /** Rows in the snapshot. */
  rowCount: number;
  /**
   * Source rows that repeat another row in every declared column, whatever the rule.
   * Absent from snapshots a worker made before duplicates were counted.
   */
  duplicateRows?: number;
  /** How many of them the snapshot left out (schema.duplicates 'drop'); 0 otherwise. */
  droppedRows?: number;
  columnStats: RecordedColumnStats | null;
  /** Set when a dataset of exactly this source content is registered already. */
  existingDatasetId?: string;
}

/** What datasets.column_stats records of a partition: its counts and each declared column's statistics. */
export interface RecordedColumnStats {
  /** Rows read from the source files. */
  sourceRows: number;
  duplicateRows: number;
  droppedRows: number;
  duplicates: DuplicateRule;
  columns: ColumnStats[];
}

/** A registered dataset as a run's result names it. */
export interface DatasetSummary {
  id: string;
  day: string;
  rowCount: number;
  snapshotKey: string;
  /** True when this run found an existing snapshot of the same content instead of writing one. */
  reused: boolean;
  /** Source rows that repeat another row in every declared column; null when the snapshot predates the count. */
  duplicateRows: number | null;
  /** Of those, rows left out of the snapshot (schema.duplicates 'drop'); null when the snapshot predates the count. */
  droppedRows: number | null;
}

/**
 * Validates one source partition and writes it as an immutable Parquet snapshot
 * keyed by its content hash. Invalid data throws before anything is written under
 * the partition's key prefix. The same content twice finds the registered dataset
 * instead of writing again, but is validated again all the same: the rules may have
 * become stricter since it was registered (data with NaN, say, was accepted once).
 */
export async function snapshotPartition(deps: PartitionIngestionDeps, input: { spec: ModelSpec; day: string }): Promise<PartitionSnapshot> {
  const { spec, day } = input;
  const rule = duplicateRuleOf(spec.schema);
  const dir = await mkdtemp(path.join(deps.workDir, `ingest-${spec.name}-${day}-`));
  try {
    const s3 = spec.source.kind === 's3' ? { client: deps.sourceS3.client, bucket: spec.source.bucket ?? deps.sourceS3.bucket } : undefined;
    const fetched = await fetchPartition(spec.source, spec.partition.column, day, dir, s3);
    const subject = `partition ${spec.partition.column}=${day} of ${spec.name}`;
    const report = await validatePartition(fetched.files, spec.source.format, spec.schema.columns, {
      partition: { column: spec.partition.column, day },
      duplicates: rule,
      fileNames: fetched.names,
      subject,
    });
    assertValidPartition(report, subject);

    const droppedRows = rule === 'drop' ? report.duplicateRows : 0;
    const sourceHash = droppedRows > 0 ? withoutDuplicatesHash(fetched.sourceHash) : fetched.sourceHash;
    const counts = { duplicateRows: report.duplicateRows, droppedRows };
    const existing = await findDataset(deps.db, spec.name, day, sourceHash);
    if (existing) {
      return {
        day,
        sourceHash: existing.sourceHash,
        snapshotKey: existing.snapshotKey,
        snapshotSha256: existing.snapshotSha256,
        sizeBytes: existing.sizeBytes,
        rowCount: existing.rowCount,
        ...counts,
        columnStats: null,
        existingDatasetId: existing.id,
      };
    }

    const snapshotFile = path.join(dir, 'snapshot.parquet');
    const { rowCount } = await writeSnapshot(fetched.files, spec.source.format, spec.schema.columns, snapshotFile, { dropDuplicates: droppedRows > 0 });
    if (rowCount !== report.rowCount - droppedRows) {
      throw new Error(`${subject}: the snapshot has ${rowCount} rows, but validation counted ${report.rowCount} with ${droppedRows} duplicates to drop`);
    }
    const ref = await deps.store.putFile(`datasets/${spec.name}/${day}`, snapshotFile, '.parquet');
    const columnStats: RecordedColumnStats = { sourceRows: report.rowCount, ...counts, duplicates: rule, columns: report.columns };
    return { day, sourceHash, snapshotKey: ref.key, snapshotSha256: ref.sha256, sizeBytes: ref.size, rowCount, ...counts, columnStats };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The identity of a partition whose duplicate rows were dropped. Its snapshot holds other
 * rows than the source itself, so it must never be found as (or reused for) the dataset
 * of the same source under the 'keep' rule, and the other way round.
 */
function withoutDuplicatesHash(sourceHash: string): string {
  return createHash('sha256').update(`${sourceHash}\nduplicates dropped\n`).digest('hex');
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

/** What a run's result says of each registered dataset; `registered` is registerDatasets' answer for `snapshots`, in their order. */
export function summarizeDatasets(
  snapshots: readonly PartitionSnapshot[],
  registered: ReadonlyArray<{ dataset: DatasetSnapshot; created: boolean }>,
): DatasetSummary[] {
  return registered.map(({ dataset, created }, i) => ({
    id: dataset.id,
    day: dataset.partitionDay,
    rowCount: dataset.rowCount,
    snapshotKey: dataset.snapshotKey,
    reused: !created,
    duplicateRows: snapshots[i]?.duplicateRows ?? null,
    droppedRows: snapshots[i]?.droppedRows ?? null,
  }));
}
