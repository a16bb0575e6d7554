import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { quotedIdentifier, quotedString } from '@duckdb/node-api';
import type { ModelSpec } from '../spec/model-spec';
import { withDuckDB } from './duckdb';
import { featureTableQuery } from './feature-table-loader';

/**
 * Writes the training data an external trainer reads (contract `trainingData`): one
 * column per feature, named as the feature and computed with its sql exactly as
 * loadFeatureTable computes it (numeric DOUBLE, categorical VARCHAR, missing as null),
 * then the label column `spec.label.name` as INTEGER 0/1. Rows whose label is null are
 * dropped; rows keep loadFeatureTable's order. Written on one DuckDB thread (the same
 * snapshots give the same bytes) under a temporary name, then renamed into place.
 */
export async function writeFeatureParquet(snapshotFiles: readonly string[], spec: ModelSpec, outFile: string): Promise<{ rowCount: number }> {
  if (spec.features.some((f) => f.name === spec.label.name)) {
    throw new Error(`label '${spec.label.name}' has the name of a feature; a feature Parquet file needs distinct column names`);
  }
  const query = featureTableQuery(snapshotFiles, spec, { withLabel: true });
  const columns = [
    ...spec.features.map((f, i) => `__column_${i} AS ${quotedIdentifier(f.name)}`),
    `CAST(__column_${spec.features.length} AS INTEGER) AS ${quotedIdentifier(spec.label.name)}`,
  ];
  const partial = `${outFile}.${randomBytes(6).toString('hex')}.partial`;
  await mkdir(path.dirname(outFile), { recursive: true });
  try {
    const rowCount = await withDuckDB(async (connection) => {
      // DuckDB keeps the subquery's ORDER BY through a plain projection (insertion order is preserved by default).
      const result = await connection
        .run(`COPY (SELECT ${columns.join(', ')} FROM (${query.sql})) TO ${quotedString(partial)} (FORMAT parquet, COMPRESSION zstd)`)
        .catch(async (err: unknown) => {
          throw await query.explainFailure(connection, err);
        });
      return result.rowsChanged;
    }, 'deterministic');
    await rename(partial, outFile);
    return { rowCount };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
