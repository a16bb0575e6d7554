import { quotedString } from '@duckdb/node-api';
import type { SourceSpec } from '../spec/model-spec';

export type SourceFormat = SourceSpec['format'];

/** File extension (with the dot) that marks a partition file of each format. */
export const FORMAT_EXTENSIONS: Readonly<Record<SourceFormat, string>> = { parquet: '.parquet', csv: '.csv', jsonl: '.jsonl' };

/**
 * The CSV dialect every partition file must follow: comma-separated, `"`-quoted, a header
 * line, the same number of fields on every line, UTF-8. It is fixed rather than sniffed
 * per file: a sniffer given a ragged line picks another dialect (the whole line as one
 * column), and the file then seems to lack every declared column.
 */
export const CSV_DIALECT = `delim = ',', quote = '"', escape = '"', header = true, strict_mode = true`;

export interface SourceRelationOptions {
  /** Adds a column of this name holding each row's file path (for messages that name the file). */
  readonly fileColumn?: string;
}

/**
 * DuckDB table function reading `files` as one relation, columns matched by name
 * across files. Hive partitioning is off: the `date=…` folder must not add or
 * override a column (the partition column is read from the data itself).
 * Column types are still detected (CSV: from a sample of each file).
 */
export function sourceRelation(files: readonly string[], format: SourceFormat, options: SourceRelationOptions = {}): string {
  if (files.length === 0) throw new Error('sourceRelation needs at least one file');
  const list = `[${files.map(quotedString).join(', ')}]`;
  const fileColumn = options.fileColumn === undefined ? '' : `, filename = ${quotedString(options.fileColumn)}`;
  switch (format) {
    case 'parquet':
      return `read_parquet(${list}, union_by_name = true, hive_partitioning = false${fileColumn})`;
    case 'csv':
      return `read_csv(${list}, auto_detect = true, ${CSV_DIALECT}, union_by_name = true, hive_partitioning = false${fileColumn})`;
    case 'jsonl':
      return `read_json_auto(${list}, format = 'newline_delimited', union_by_name = true, hive_partitioning = false${fileColumn})`;
  }
}
