import { quotedString } from '@duckdb/node-api';
import type { SourceSpec } from '../spec/model-spec';

export type SourceFormat = SourceSpec['format'];

/** File extension (with the dot) that marks a partition file of each format. */
export const FORMAT_EXTENSIONS: Readonly<Record<SourceFormat, string>> = { parquet: '.parquet', csv: '.csv', jsonl: '.jsonl' };

/**
 * DuckDB table function reading `files` as one relation, columns matched by name
 * across files. Hive partitioning is off: the `date=…` folder must not add or
 * override a column (the partition column is read from the data itself).
 */
export function sourceRelation(files: readonly string[], format: SourceFormat): string {
  if (files.length === 0) throw new Error('sourceRelation needs at least one file');
  const list = `[${files.map(quotedString).join(', ')}]`;
  switch (format) {
    case 'parquet':
      return `read_parquet(${list}, union_by_name = true, hive_partitioning = false)`;
    case 'csv':
      return `read_csv(${list}, auto_detect = true, header = true, union_by_name = true, hive_partitioning = false)`;
    case 'jsonl':
      return `read_json_auto(${list}, format = 'newline_delimited', union_by_name = true, hive_partitioning = false)`;
  }
}
