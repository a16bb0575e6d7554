import type { FeatureSpec } from '../spec/model-spec';
import type { FeatureCounts } from '../stats/value-counts';
import type { SchemaChange } from './drift-report';

/**
 * Schema drift, as the monitor states it:
 * - in requests (the features JSON the gateway logged): a feature of the reference that no row
 *   carries is `missing`; a key the reference does not have is `new`; a feature carried with
 *   another JSON type than its kind's (a string for a numeric feature) in any row is `retyped`;
 *   a feature whose share of missing values (null) exceeds the reference's by more than
 *   MISSING_SHARE_INCREASE is `missing_values` (clients that stopped sending it: the gateway
 *   takes null as a missing value, so it never refuses such requests);
 * - in ingested partitions (the source types recorded with each dataset, datasets.column_stats):
 *   a column of the reference datasets absent from a new one is `missing`, a column only the new
 *   ones have is `new`, a column whose DuckDB type differs is `retyped`.
 */
export const MISSING_SHARE_INCREASE = 0.1;

const EXPECTED_JSON_TYPE = { numeric: 'number', categorical: 'string' } as const;

export function requestSchemaChanges(
  features: readonly FeatureSpec[],
  observed: ReadonlyArray<{ key: string; type: string; rows: number }>,
  requests: number,
  reference: Readonly<Record<string, FeatureCounts>>,
): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const byKey = new Map<string, Map<string, number>>();
  for (const o of observed) {
    if (!byKey.has(o.key)) byKey.set(o.key, new Map());
    byKey.get(o.key)!.set(o.type, o.rows);
  }
  const share = (rows: number) => `${Math.round((rows / Math.max(requests, 1)) * 1000) / 10}% of rows`;
  for (const feature of features) {
    const types = byKey.get(feature.name);
    const expected = EXPECTED_JSON_TYPE[feature.kind];
    if (!types) {
      changes.push({ source: 'requests', column: feature.name, change: 'missing', reference: expected, current: null });
      continue;
    }
    for (const [type, rows] of types) {
      if (type !== expected && type !== 'null') changes.push({ source: 'requests', column: feature.name, change: 'retyped', reference: expected, current: `${type} in ${share(rows)}` });
    }
    const ref = reference[feature.name];
    const refRows = ref ? ref.missing + ref.counts.reduce((s, c) => s + c, 0) : 0;
    const refShare = refRows === 0 ? 0 : ref!.missing / refRows;
    const present = [...types.values()].reduce((s, n) => s + n, 0);
    const nulls = (types.get('null') ?? 0) + Math.max(0, requests - present);
    const curShare = requests === 0 ? 0 : nulls / requests;
    if (curShare - refShare > MISSING_SHARE_INCREASE) {
      changes.push({ source: 'requests', column: feature.name, change: 'missing_values', reference: `${Math.round(refShare * 1000) / 10}% missing`, current: `${Math.round(curShare * 1000) / 10}% missing` });
    }
  }
  const known = new Set(features.map((f) => f.name));
  for (const [key, types] of byKey) {
    if (!known.has(key)) changes.push({ source: 'requests', column: key, change: 'new', reference: null, current: [...types.keys()].join('/') });
  }
  return changes;
}

export function ingestedSchemaChanges(
  reference: ReadonlyArray<{ columns: ReadonlyArray<{ name: string; duckdbType: string }> }>,
  ingested: ReadonlyArray<{ id: string; columns: ReadonlyArray<{ name: string; duckdbType: string }> }>,
): SchemaChange[] {
  const referenceTypes = new Map<string, Set<string>>();
  for (const d of reference) for (const c of d.columns) (referenceTypes.get(c.name) ?? referenceTypes.set(c.name, new Set()).get(c.name)!).add(c.duckdbType);
  const changes: SchemaChange[] = [];
  const seen = new Set<string>();
  for (const d of ingested) {
    const names = new Set(d.columns.map((c) => c.name));
    for (const [name, types] of referenceTypes) {
      const key = `missing:${name}`;
      if (!names.has(name) && !seen.has(key)) {
        seen.add(key);
        changes.push({ source: 'ingested', column: name, change: 'missing', reference: [...types].join('/'), current: null });
      }
    }
    for (const c of d.columns) {
      const types = referenceTypes.get(c.name);
      const key = `${types ? 'retyped' : 'new'}:${c.name}:${c.duckdbType}`;
      if (seen.has(key)) continue;
      if (!types) {
        seen.add(key);
        changes.push({ source: 'ingested', column: c.name, change: 'new', reference: null, current: c.duckdbType });
      } else if (!types.has(c.duckdbType)) {
        seen.add(key);
        changes.push({ source: 'ingested', column: c.name, change: 'retyped', reference: [...types].join('/'), current: c.duckdbType });
      }
    }
  }
  return changes;
}
