import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { quotedIdentifier, quotedString } from '@duckdb/node-api';
import type { ColumnSpec, ColumnType } from '../spec/model-spec';
import { withDuckDB } from '../data/duckdb';
import { sourceRelation, type SourceFormat } from '../data/source-relation';

/** The DuckDB type every declared column type is stored as in a snapshot. */
export const CANONICAL_DUCKDB_TYPES: Readonly<Record<ColumnType, string>> = {
  integer: 'BIGINT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
  boolean: 'BOOLEAN',
};

/**
 * Writes the declared columns of `files`, cast to their canonical types and sorted by
 * all of them (in declaration order), to a zstd Parquet file. Undeclared columns are
 * dropped; with `dropDuplicates`, so are rows equal to another in every declared column
 * (one of each is kept). The write runs on one DuckDB thread, so the same rows give a
 * byte-identical file; `outFile` appears atomically (written under a temporary name,
 * then renamed). Validate the files first (schema-validation): a failed cast aborts the write.
 */
export async function writeSnapshot(
  files: readonly string[],
  format: SourceFormat,
  columns: readonly ColumnSpec[],
  outFile: string,
  options: { dropDuplicates?: boolean } = {},
): Promise<{ rowCount: number }> {
  if (columns.length === 0) throw new Error('writeSnapshot: no columns declared');
  const projection = columns.map((c) => `CAST(${quotedIdentifier(c.name)} AS ${CANONICAL_DUCKDB_TYPES[c.type]}) AS ${quotedIdentifier(c.name)}`);
  const order = columns.map((c) => quotedIdentifier(c.name));
  const select = options.dropDuplicates ? 'SELECT DISTINCT' : 'SELECT';
  const partial = `${outFile}.${randomBytes(6).toString('hex')}.partial`;
  await mkdir(path.dirname(outFile), { recursive: true });
  try {
    const rowCount = await withDuckDB(async (connection) => {
      const result = await connection.run(
        `COPY (${select} ${projection.join(', ')} FROM ${sourceRelation(files, format)} ORDER BY ${order.join(', ')}) ` +
          `TO ${quotedString(partial)} (FORMAT parquet, COMPRESSION zstd)`,
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
