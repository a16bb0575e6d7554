import { quotedIdentifier, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSpec, ColumnType } from '../spec/model-spec';
import { queryRows, withDuckDB } from '../data/duckdb';
import { sourceRelation, type SourceFormat } from '../data/source-relation';

/** Observed statistics of one declared column. min/max are numbers for numeric columns, text otherwise. */
export interface ColumnStats {
  readonly name: string;
  readonly duckdbType: string;
  readonly nulls: number;
  readonly min: number | string | null;
  readonly max: number | string | null;
  /** Only for columns declared integer or double with a numeric DuckDB type. */
  readonly mean?: number;
}

export type ValidationProblemKind = 'missing_column' | 'wrong_type' | 'nulls' | 'out_of_range' | 'empty';

export interface ValidationProblem {
  readonly column?: string;
  readonly kind: ValidationProblemKind;
  readonly message: string;
}

export interface ValidationReport {
  readonly rowCount: number;
  /** Declared columns that exist in the data, in declaration order. */
  readonly columns: ColumnStats[];
  /** Columns in the data that the schema does not declare: allowed, and dropped from snapshots. */
  readonly extraColumns: string[];
  readonly problems: ValidationProblem[];
}

/** A partition does not match the model's declared schema. Permanent: retrying will not help. */
export class SchemaValidationError extends Error {
  readonly type = 'SchemaValidation' as const;

  constructor(
    message: string,
    readonly problems: readonly ValidationProblem[],
  ) {
    super(message);
    this.name = 'SchemaValidationError';
  }
}

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT']);
const TIMESTAMP_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMP WITH TIME ZONE']);

/**
 * Whether data of DuckDB type `duckdbType` can stand for a column declared `declared`
 * without losing meaning when cast to the canonical type (see snapshot-writer).
 * A DATE is accepted for a timestamp (midnight); a TIMESTAMPTZ is read in UTC.
 */
export function isCompatibleType(declared: ColumnType, duckdbType: string): boolean {
  const isDecimal = /^DECIMAL\(\d+,\d+\)$/.test(duckdbType);
  switch (declared) {
    case 'integer':
      return INTEGER_TYPES.has(duckdbType) || /^DECIMAL\(\d+,0\)$/.test(duckdbType);
    case 'double':
      return INTEGER_TYPES.has(duckdbType) || isDecimal || duckdbType === 'FLOAT' || duckdbType === 'DOUBLE';
    case 'string':
      return duckdbType === 'VARCHAR';
    case 'timestamp':
      return TIMESTAMP_TYPES.has(duckdbType) || duckdbType === 'DATE';
    case 'date':
      return duckdbType === 'DATE';
    case 'boolean':
      return duckdbType === 'BOOLEAN';
  }
}

/**
 * Checks a partition's files against the declared columns: presence, type, nulls in
 * non-nullable columns, min/max ranges, and emptiness. Never throws for bad data;
 * see assertValidPartition.
 */
export async function validatePartition(files: readonly string[], format: SourceFormat, columns: readonly ColumnSpec[]): Promise<ValidationReport> {
  if (files.length === 0) {
    return { rowCount: 0, columns: [], extraColumns: [], problems: [{ kind: 'empty', message: 'the partition has no files' }] };
  }
  const relation = sourceRelation(files, format);
  return withDuckDB(async (connection) => {
    const described = await describe(connection, relation, files);
    const actualByName = new Map(described.map((c) => [c.name.toLowerCase(), c]));
    const declaredNames = new Set(columns.map((c) => c.name.toLowerCase()));
    const problems: ValidationProblem[] = [];
    const present: { spec: ColumnSpec; actualName: string; duckdbType: string; numeric: boolean }[] = [];

    for (const spec of columns) {
      const actual = actualByName.get(spec.name.toLowerCase());
      if (!actual) {
        problems.push({ column: spec.name, kind: 'missing_column', message: `column '${spec.name}' is missing` });
        continue;
      }
      const compatible = isCompatibleType(spec.type, actual.type);
      if (!compatible) {
        problems.push({ column: spec.name, kind: 'wrong_type', message: `column '${spec.name}' has type ${actual.type}, expected ${spec.type}` });
      }
      const numeric = compatible && (spec.type === 'integer' || spec.type === 'double');
      present.push({ spec, actualName: actual.name, duckdbType: actual.type, numeric });
    }

    // One scan computes every statistic.
    const selects = ['count(*) AS row_count'];
    present.forEach(({ spec, actualName, numeric }, i) => {
      const c = quotedIdentifier(actualName);
      selects.push(`count(*) - count(${c}) AS nulls_${i}`);
      if (numeric) {
        selects.push(`min(${c})::DOUBLE AS min_${i}`, `max(${c})::DOUBLE AS max_${i}`, `avg(${c})::DOUBLE AS mean_${i}`);
        selects.push(spec.min === undefined ? `0 AS below_${i}` : `count_if(${c} < ${sqlNumber(spec.min)}) AS below_${i}`);
        selects.push(spec.max === undefined ? `0 AS above_${i}` : `count_if(${c} > ${sqlNumber(spec.max)}) AS above_${i}`);
      } else {
        selects.push(`min(${c})::VARCHAR AS min_${i}`, `max(${c})::VARCHAR AS max_${i}`);
      }
    });
    const [row] = await queryRows(connection, `SELECT ${selects.join(', ')} FROM ${relation}`);
    if (!row) throw new Error('validatePartition: the statistics query returned no row');

    const rowCount = Number(row.row_count);
    if (rowCount === 0) problems.push({ kind: 'empty', message: 'the partition has no rows' });

    const stats: ColumnStats[] = present.map(({ spec, duckdbType, numeric }, i) => {
      const nulls = Number(row[`nulls_${i}`]);
      const min = toStat(row[`min_${i}`]);
      const max = toStat(row[`max_${i}`]);
      if (nulls > 0 && !spec.nullable) {
        problems.push({ column: spec.name, kind: 'nulls', message: `column '${spec.name}' has ${nulls} null${nulls === 1 ? '' : 's'} but is not nullable` });
      }
      if (!numeric) return { name: spec.name, duckdbType, nulls, min, max };
      const outside = Number(row[`below_${i}`]) + Number(row[`above_${i}`]);
      if (outside > 0) {
        const range = `[${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]`;
        problems.push({
          column: spec.name,
          kind: 'out_of_range',
          message: `column '${spec.name}' has ${outside} value${outside === 1 ? '' : 's'} outside ${range} (observed min ${min}, max ${max})`,
        });
      }
      const mean = row[`mean_${i}`];
      return { name: spec.name, duckdbType, nulls, min, max, ...(typeof mean === 'number' ? { mean } : {}) };
    });

    const extraColumns = described.map((c) => c.name).filter((name) => !declaredNames.has(name.toLowerCase()));
    return { rowCount, columns: stats, extraColumns, problems };
  });
}

/**
 * Throws SchemaValidationError listing every problem; `subject` names what was checked.
 * @example assertValidPartition(report, 'partition date=2001-01-08 of flight-delay')
 * // "partition date=2001-01-08 of flight-delay is invalid: column 'distance' is missing; column 'delay' has type VARCHAR, expected integer"
 */
export function assertValidPartition(report: ValidationReport, subject: string): void {
  if (report.problems.length === 0) return;
  const list = report.problems.map((p) => p.message).join('; ');
  throw new SchemaValidationError(`${subject} is invalid: ${list}`, report.problems);
}

async function describe(connection: DuckDBConnection, relation: string, files: readonly string[]): Promise<{ name: string; type: string }[]> {
  try {
    const rows = await queryRows(connection, `DESCRIBE SELECT * FROM ${relation}`);
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (err) {
    const shown = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
    throw new Error(`cannot read partition files ${shown}: ${(err as Error).message}`, { cause: err });
  }
}

function toStat(value: unknown): number | string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' || typeof value === 'string' ? value : String(value);
}

function sqlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`range bound must be finite, got ${n}`);
  return String(n);
}
