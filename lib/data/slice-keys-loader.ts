import { quotedIdentifier } from '@duckdb/node-api';
import type { ModelSpec, SliceSpec } from '../spec/model-spec';
import { withDuckDB } from './duckdb';
import { featureTableQuery } from './feature-table-loader';
import { sourceRelation } from './source-relation';

/**
 * Each slice family's value per row (e.g. the origin airport), in the same row
 * order and with the same rows as loadFeatureTable with labels, so slice keys
 * line up with labels and scores. A bad slice expression is reported by name.
 */
export async function loadSliceKeys(snapshotFiles: readonly string[], spec: ModelSpec, slices: readonly SliceSpec[]): Promise<Record<string, (string | null)[]>> {
  if (slices.length === 0) return {};
  const { orderBy } = featureTableQuery(snapshotFiles, spec, { withLabel: true });
  const select = slices.map((s, i) => `CAST((${s.sql ?? quotedIdentifier(s.name)}) AS VARCHAR) AS __slice_${i}`).join(', ');
  const sql = `SELECT ${select} FROM ${sourceRelation(snapshotFiles, 'parquet')} WHERE (${spec.label.sql}) IS NOT NULL ORDER BY ${orderBy}`;
  return withDuckDB(async (connection) => {
    const reader = await connection.runAndReadAll(sql).catch((err: unknown) => {
      throw new Error(`slice expression cannot be computed (${slices.map((s) => `${s.name}: ${s.sql ?? s.name}`).join(', ')}): ${(err as Error).message}`, { cause: err });
    });
    const columns = reader.getColumns();
    return Object.fromEntries(slices.map((s, i) => [s.name, (columns[i] ?? []).map((v) => (v === null ? null : String(v)))]));
  });
}
