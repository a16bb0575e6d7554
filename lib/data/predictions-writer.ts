import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { quotedIdentifier, quotedString } from '@duckdb/node-api';
import type { ModelSpec } from '../spec/model-spec';
import { binaryLabel } from '../stats/decision-threshold';
import { queryRows, withDuckDB } from './duckdb';
import { featureTableQuery } from './feature-table-loader';
import { sourceRelation } from './source-relation';

/** Columns batch inference adds to a snapshot's own columns. */
export const PREDICTION_COLUMNS = ['probability', 'predicted_label', 'model_version'] as const;

export interface PredictionsParquetInput {
  /** The snapshot files that were scored. */
  snapshotFiles: readonly string[];
  /** The spec whose features were scored; it fixes the row order and the label expression. */
  spec: ModelSpec;
  /**
   * P(positive) per row, in loadFeatureTable's order for `spec` with `withLabel: false`
   * (every snapshot row, ordered by the partition column, then the other declared columns).
   */
  scores: Float64Array;
  /** The version number written into every row's `model_version`. */
  modelVersion: number;
  outFile: string;
}

/**
 * Writes batch predictions as one zstd Parquet file: every column of the snapshot, the
 * label computed with `spec.label.sql` as 0/1 (null where it cannot be known; left out
 * if the snapshot has a column of that name), `probability` (DOUBLE), `predicted_label`
 * (INTEGER, the decision rule's label: 1 when probability ≥ 0.5, see lib/stats/decision-threshold)
 * and `model_version`.
 * Rows keep the scoring order. Written on one DuckDB thread under a temporary name, then
 * renamed into place, so the same scores give the same bytes.
 */
export async function writePredictionsParquet(input: PredictionsParquetInput): Promise<{ rowCount: number }> {
  const { spec, scores, outFile } = input;
  if (!Number.isInteger(input.modelVersion)) throw new Error(`modelVersion must be an integer, got ${input.modelVersion}`);
  const relation = sourceRelation(input.snapshotFiles, 'parquet');
  const { orderBy } = featureTableQuery(input.snapshotFiles, spec, { withLabel: false });
  const partial = `${outFile}.${randomBytes(6).toString('hex')}.partial`;
  await mkdir(path.dirname(outFile), { recursive: true });
  try {
    const rowCount = await withDuckDB(async (connection) => {
      const columns = (await queryRows(connection, `DESCRIBE SELECT * FROM ${relation}`)).map((r) => String(r.column_name));
      const taken = PREDICTION_COLUMNS.filter((name) => columns.includes(name));
      if (taken.length > 0) throw new Error(`the snapshot already has column(s) ${taken.join(', ')}, which batch inference writes`);
      const [{ n }] = (await queryRows(connection, `SELECT count(*) AS n FROM ${relation}`)) as [{ n: bigint }];
      if (Number(n) !== scores.length) throw new Error(`${scores.length} scores for a snapshot of ${n} rows`);

      // The label is computed here by binaryLabel, not in SQL: one rule, in one place.
      await connection.run('CREATE TEMP TABLE __scores (row_index BIGINT, probability DOUBLE, predicted_label INTEGER)');
      const appender = await connection.createAppender('__scores', 'main', 'temp');
      try {
        for (let i = 0; i < scores.length; i++) {
          appender.appendBigInt(BigInt(i));
          appender.appendDouble(scores[i]!);
          appender.appendInteger(binaryLabel(scores[i]!));
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }

      const label = columns.includes(spec.label.name) ? '' : `, CAST(CAST((${spec.label.sql}) AS BOOLEAN) AS INTEGER) AS ${quotedIdentifier(spec.label.name)}`;
      // row_number over loadFeatureTable's ORDER BY numbers rows as the scores are numbered. Rows that tie
      // on every declared column are identical in a snapshot (which holds declared columns only), so ties cannot swap scores.
      const result = await connection.run(
        `COPY (
           SELECT src.* EXCLUDE (__row_index), s.probability,
                  s.predicted_label, CAST(${input.modelVersion} AS INTEGER) AS model_version
           FROM (SELECT *${label}, row_number() OVER (ORDER BY ${orderBy}) - 1 AS __row_index FROM ${relation}) src
           JOIN temp.main.__scores s ON s.row_index = src.__row_index
           ORDER BY src.__row_index
         ) TO ${quotedString(partial)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      return result.rowsChanged;
    }, 'deterministic');
    await rename(partial, outFile);
    return { rowCount };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
