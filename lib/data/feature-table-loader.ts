import { quotedIdentifier, type DuckDBConnection, type DuckDBVector } from '@duckdb/node-api';
import type { FeatureSpec, ModelSpec } from '../spec/model-spec';
import type { FeatureTable } from './feature-table';
import { withDuckDB } from './duckdb';
import { rowKeySql } from './row-keys';
import { sourceRelation } from './source-relation';

export interface LoadFeatureTableOptions {
  /** Compute the label and drop rows whose label is null (default true); false for scoring. */
  readonly withLabel?: boolean;
  /** Also read each row's key (lib/data/row-keys.ts) into `rowKeys`, for labels from people. */
  readonly withRowKeys?: boolean;
}

/** A feature's (or the label's) DuckDB expression, cast to the type the table stores. */
interface ColumnExpression {
  readonly what: string;
  readonly sql: string;
  readonly castTo: 'DOUBLE' | 'VARCHAR' | 'BOOLEAN';
}

/**
 * The SELECT that applies a spec's feature expressions (and label expression) to snapshot
 * Parquet files; loadFeatureTable and writeFeatureParquet both run it. Columns are
 * `__column_<i>`: the features in spec order (DOUBLE or VARCHAR), then the label (BOOLEAN)
 * when `withLabel`, which also drops rows whose label is null.
 */
export interface FeatureTableQuery {
  readonly sql: string;
  /** The ORDER BY list of `sql` (quoted column names): a deterministic order of snapshot rows. */
  readonly orderBy: string;
  /** Turns a failure of `sql` into an error naming the expression that cannot be computed. */
  explainFailure(connection: DuckDBConnection, err: unknown): Promise<Error>;
}

/** Builds the feature query; rows are ordered by the partition column, then the other declared columns. */
export function featureTableQuery(snapshotFiles: readonly string[], spec: ModelSpec, options: LoadFeatureTableOptions = {}): FeatureTableQuery {
  const withLabel = options.withLabel ?? true;
  const expressions: ColumnExpression[] = spec.features.map((f) => featureExpression(f));
  if (withLabel) expressions.push({ what: `label '${spec.label.name}'`, sql: spec.label.sql, castTo: 'BOOLEAN' });

  const relation = sourceRelation(snapshotFiles, 'parquet');
  const keys = options.withRowKeys ? `, ${rowKeySql(spec)} AS __row_key` : '';
  const select = expressions.map((e, i) => `CAST((${e.sql}) AS ${e.castTo}) AS __column_${i}`).join(', ') + keys;
  const where = withLabel ? `WHERE (${spec.label.sql}) IS NOT NULL` : '';
  const orderColumns = [spec.partition.column, ...spec.schema.columns.map((c) => c.name).filter((name) => name !== spec.partition.column)];
  const orderBy = orderColumns.map(quotedIdentifier).join(', ');
  const sql = `SELECT ${select} FROM ${relation} ${where} ORDER BY ${orderBy}`;
  return { sql, orderBy, explainFailure: (connection, err) => explainFailure(connection, relation, expressions, err) };
}

/**
 * Applies the spec's feature expressions (a feature without `sql` is the column of
 * the same name) and label expression to snapshot Parquet files. Rows come out
 * ordered by the partition column, then the other declared columns, so the same
 * snapshot always gives the same table. A failing expression is reported by name.
 */
export async function loadFeatureTable(snapshotFiles: readonly string[], spec: ModelSpec, options: LoadFeatureTableOptions = {}): Promise<FeatureTable> {
  const withLabel = options.withLabel ?? true;
  const query = featureTableQuery(snapshotFiles, spec, { withLabel, withRowKeys: options.withRowKeys });

  return withDuckDB(async (connection) => {
    const result = await connection.run(query.sql).catch(async (err: unknown) => {
      throw await query.explainFailure(connection, err);
    });
    const rows = result.rowCount;
    const chunks = await result.fetchAllChunks();

    const numeric: Record<string, Float64Array> = {};
    const categorical: Record<string, (string | null)[]> = {};
    const label = withLabel ? new Uint8Array(rows) : undefined;
    spec.features.forEach((feature, i) => {
      if (feature.kind === 'numeric') numeric[feature.name] = readDoubles(chunks.map((c) => c.getColumnVector(i)), rows);
      else categorical[feature.name] = readStrings(chunks.map((c) => c.getColumnVector(i)), rows);
    });
    if (label) {
      let offset = 0;
      for (const chunk of chunks) {
        const vector = chunk.getColumnVector(spec.features.length);
        for (let r = 0; r < vector.itemCount; r++) label[offset + r] = vector.getItem(r) === true ? 1 : 0;
        offset += vector.itemCount;
      }
    }
    const keyColumn = spec.features.length + (withLabel ? 1 : 0);
    const rowKeys = options.withRowKeys ? (readStrings(chunks.map((c) => c.getColumnVector(keyColumn)), rows) as string[]) : undefined;
    const table = label ? { rows, numeric, categorical, label } : { rows, numeric, categorical };
    return rowKeys ? { ...table, rowKeys } : table;
  });
}

function featureExpression(feature: FeatureSpec): ColumnExpression {
  return {
    what: `feature '${feature.name}'`,
    sql: feature.sql ?? quotedIdentifier(feature.name),
    castTo: feature.kind === 'numeric' ? 'DOUBLE' : 'VARCHAR',
  };
}

/** DOUBLE vectors into one Float64Array; null becomes NaN. */
function readDoubles(vectors: readonly DuckDBVector[], rows: number): Float64Array {
  const out = new Float64Array(rows);
  let offset = 0;
  for (const vector of vectors) {
    const n = vector.itemCount;
    for (let r = 0; r < n; r++) {
      const value = vector.getItem(r);
      out[offset + r] = typeof value === 'number' ? value : Number.NaN;
    }
    offset += n;
  }
  return out;
}

/** VARCHAR vectors into one array; repeated values share one string instance. */
function readStrings(vectors: readonly DuckDBVector[], rows: number): (string | null)[] {
  const out = new Array<string | null>(rows);
  const interned = new Map<string, string>();
  let offset = 0;
  for (const vector of vectors) {
    const n = vector.itemCount;
    for (let r = 0; r < n; r++) {
      const value = vector.getItem(r);
      if (typeof value !== 'string') {
        out[offset + r] = null;
        continue;
      }
      let shared = interned.get(value);
      if (shared === undefined) interned.set(value, (shared = value));
      out[offset + r] = shared;
    }
    offset += n;
  }
  return out;
}

/** Re-runs each expression alone to name the one that fails; falls back to the original error. */
async function explainFailure(connection: DuckDBConnection, relation: string, expressions: readonly ColumnExpression[], original: unknown): Promise<Error> {
  for (const e of expressions) {
    try {
      await connection.run(`SELECT count(CAST((${e.sql}) AS ${e.castTo})) FROM ${relation}`);
    } catch (err) {
      return new Error(`${e.what} (sql: ${e.sql}) cannot be computed: ${(err as Error).message}`, { cause: err });
    }
  }
  return new Error(`cannot load feature table: ${(original as Error).message}`, { cause: original });
}
