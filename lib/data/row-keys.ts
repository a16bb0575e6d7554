import { quotedIdentifier } from '@duckdb/node-api';
import type { ModelSpec } from '../spec/model-spec';

/**
 * The key of a snapshot row, by which labels from people join training data: the md5 of the row's
 * declared columns (as the snapshot stores them) and, for rows identical in every declared column,
 * their ordinal among them ("<md5>-<n>"). Snapshots carry no key column of their own, and a
 * content key survives what a position would not: a snapshot written again, another file order,
 * rows of other days. Identical rows are interchangeable (same features, same natural label), so
 * which of them gets ordinal 0 does not matter.
 */
export function rowKeySql(spec: Pick<ModelSpec, 'schema'>): string {
  const fields = spec.schema.columns.map((c) => `${quotedIdentifier(c.name)} := ${quotedIdentifier(c.name)}`).join(', ');
  const content = `md5(CAST(struct_pack(${fields}) AS VARCHAR))`;
  return `${content} || '-' || CAST(row_number() OVER (PARTITION BY ${content}) - 1 AS VARCHAR)`;
}
