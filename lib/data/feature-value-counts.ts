import { quotedIdentifier, type DuckDBConnection } from '@duckdb/node-api';
import type { FeatureSpec, ModelSpec } from '../spec/model-spec';
import type { FeatureCounts } from '../stats/value-counts';
import { withDuckDB } from './duckdb';
import { sourceRelation } from './source-relation';

/**
 * Each feature's value counts (and the label's) over snapshot Parquet files, aggregated by DuckDB
 * in one scan: the spec's feature expressions, then `GROUP BY GROUPING SETS ((f0), (f1), …, (label))`,
 * so only one row per distinct value of each feature leaves DuckDB, never the rows. Numeric
 * values that are null, NaN or ±Infinity count as missing. What the drift tests read
 * (lib/stats/value-counts.ts).
 */
export interface SnapshotValueCounts {
  rows: number;
  features: Record<string, FeatureCounts>;
  /** Rows per label value (false: 0, true: 1); null when the label was not asked for. */
  label: { negative: number; positive: number; missing: number } | null;
}

export async function snapshotValueCounts(files: readonly string[], spec: Pick<ModelSpec, 'label'>, features: readonly FeatureSpec[], options: { withLabel?: boolean } = {}): Promise<SnapshotValueCounts> {
  return withDuckDB((connection) => valueCountsQuery(connection, sourceRelation(files, 'parquet'), spec, features, options.withLabel ?? true));
}

/** The same aggregation over any DuckDB relation (a read_parquet call, a table): for the bench's in-memory comparison. */
export async function valueCountsQuery(
  connection: DuckDBConnection,
  relation: string,
  spec: Pick<ModelSpec, 'label'>,
  features: readonly FeatureSpec[],
  withLabel: boolean,
): Promise<SnapshotValueCounts> {
  const columns = features.map((f, i) => {
    const expression = f.sql ?? quotedIdentifier(f.name);
    return f.kind === 'numeric'
      ? `CASE WHEN isfinite(CAST((${expression}) AS DOUBLE)) THEN CAST((${expression}) AS DOUBLE) END AS f${i}`
      : `CAST((${expression}) AS VARCHAR) AS f${i}`;
  });
  if (withLabel) columns.push(`CAST((${spec.label.sql}) AS BOOLEAN) AS f${features.length}`);
  const names = columns.map((_, i) => `f${i}`);
  const sql =
    `SELECT ${names.map((n) => `grouping(${n}) AS g_${n}`).join(', ')}, ${names.join(', ')}, count(*) AS n ` +
    `FROM (SELECT ${columns.join(', ')} FROM ${relation}) ` +
    `GROUP BY GROUPING SETS (${names.map((n) => `(${n})`).join(', ')}) ORDER BY ${names.map((n) => `${n} NULLS LAST`).join(', ')}`;
  const reader = await connection.runAndReadAll(sql);
  const data = reader.getColumnsJS();
  const groupingOf = (k: number) => data[k]!;
  const valuesOf = (k: number) => data[names.length + k]!;
  const counts = data[2 * names.length]!;
  const out: Record<string, FeatureCounts> = {};
  let rows = 0;
  features.forEach((feature, k) => {
    const grouping = groupingOf(k);
    const values = valuesOf(k);
    const numericValues: number[] = [];
    const categories: string[] = [];
    const n: number[] = [];
    let missing = 0;
    for (let r = 0; r < counts.length; r++) {
      if (Number(grouping[r]) !== 0) continue;
      const count = Number(counts[r]);
      const value = values[r];
      if (value === null || value === undefined) {
        missing += count;
        continue;
      }
      if (feature.kind === 'numeric') numericValues.push(Number(value));
      else categories.push(String(value));
      n.push(count);
    }
    const total = n.reduce((s, c) => s + c, 0) + missing;
    if (k === 0) rows = total;
    out[feature.name] =
      feature.kind === 'numeric'
        ? { kind: 'numeric', values: Float64Array.from(numericValues), counts: Float64Array.from(n), missing }
        : { kind: 'categorical', categories, counts: Float64Array.from(n), missing };
  });
  let label: SnapshotValueCounts['label'] = null;
  if (withLabel) {
    const k = features.length;
    label = { negative: 0, positive: 0, missing: 0 };
    for (let r = 0; r < counts.length; r++) {
      if (Number(groupingOf(k)[r]) !== 0) continue;
      const value = valuesOf(k)[r];
      const count = Number(counts[r]);
      if (value === true) label.positive += count;
      else if (value === false) label.negative += count;
      else label.missing += count;
    }
    if (features.length === 0) rows = label.negative + label.positive + label.missing;
  }
  return { rows, features: out, label };
}
