import path from 'node:path';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_DUPLICATE_RULE, type ColumnSpec, type ColumnType, type DuplicateRule } from '../spec/model-spec';
import { queryRows, withDuckDB } from '../data/duckdb';
import { diagnoseSourceFiles, emptyFiles, type NamedFile } from '../data/source-file-diagnosis';
import { sourceRelation, type SourceFormat } from '../data/source-relation';
import { UnreadableSourceFileError } from '../data/unreadable-source-file-error';
import { CANONICAL_DUCKDB_TYPES } from './snapshot-writer';

/** Observed statistics of one declared column. min/max are numbers for numeric columns, text otherwise. */
export interface ColumnStats {
  readonly name: string;
  readonly duckdbType: string;
  readonly nulls: number;
  /** For FLOAT and DOUBLE data, over the finite values only. */
  readonly min: number | string | null;
  readonly max: number | string | null;
  /** Only for columns declared integer or double with a numeric DuckDB type; finite values only. */
  readonly mean?: number;
  /** NaN, Infinity and -Infinity values; only for columns declared double with FLOAT or DOUBLE data. */
  readonly nonFinite?: number;
}

export type ValidationProblemKind =
  | 'missing_column'
  | 'wrong_type'
  | 'nulls'
  | 'out_of_range'
  | 'non_finite'
  | 'outside_partition'
  | 'duplicates'
  | 'empty';

export interface ValidationProblem {
  readonly column?: string;
  readonly kind: ValidationProblemKind;
  readonly message: string;
  /** The file the problem was counted in (its name in the partition folder): set for non_finite and outside_partition. */
  readonly file?: string;
  /** How many rows have the problem (in `file`, when set): set for non_finite, outside_partition and duplicates. */
  readonly rows?: number;
}

export interface ValidationReport {
  readonly rowCount: number;
  /** Declared columns that exist in the data, in declaration order. */
  readonly columns: ColumnStats[];
  /** Columns in the data that the schema does not declare: allowed, and dropped from snapshots. */
  readonly extraColumns: string[];
  /**
   * Rows equal to an earlier row in every declared column (after the cast to snapshot types):
   * rowCount minus the number of distinct rows. Counted whatever the duplicate rule.
   */
  readonly duplicateRows: number;
  readonly problems: ValidationProblem[];
}

/** What else a partition is checked against, besides its columns. */
export interface PartitionChecks {
  /** The partition column and day: every row's value of that column must fall on that UTC day. */
  readonly partition?: { readonly column: string; readonly day: string };
  /** 'refuse' makes duplicate rows a problem; 'keep' and 'drop' only count them (the default: keep). */
  readonly duplicates?: DuplicateRule;
  /** Each file's name in the partition folder, in the order of `files` (default: the base name). */
  readonly fileNames?: readonly string[];
  /** What errors call the data, e.g. "partition date=2001-01-08 of flight-delay" (default: "partition"). */
  readonly subject?: string;
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
/** The only DuckDB types that can hold NaN and Infinity. */
const FLOAT_TYPES = new Set(['FLOAT', 'DOUBLE']);
/** The column DuckDB adds with each row's file, in the query that counts problems per file. */
const FILE_COLUMN = '__retrain_source_file';

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
      return INTEGER_TYPES.has(duckdbType) || isDecimal || FLOAT_TYPES.has(duckdbType);
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

interface PresentColumn {
  readonly spec: ColumnSpec;
  readonly actualName: string;
  readonly duckdbType: string;
  readonly compatible: boolean;
  readonly numeric: boolean;
  /** FLOAT or DOUBLE data of a double column: the only kind that can hold NaN or Infinity. */
  readonly float: boolean;
  /** The partition column, when it can be compared with the partition's day. */
  readonly partitionDay?: string;
}

/**
 * Checks a partition's files against the declared columns: presence, type, nulls in
 * non-nullable columns, min/max ranges, NaN and Infinity in double columns (unless the
 * column allows them), rows whose partition column falls outside the partition's day,
 * duplicate rows (counted; a problem under the 'refuse' rule) and emptiness. Everything is
 * counted in one scan; only when a per-row check fails does a second query count it per
 * file, for the message. Never throws for bad data, but throws UnreadableSourceFileError
 * when a file cannot be read at all (empty, corrupt, ragged CSV, malformed JSONL); see
 * assertValidPartition.
 */
export async function validatePartition(
  files: readonly string[],
  format: SourceFormat,
  columns: readonly ColumnSpec[],
  checks: PartitionChecks = {},
): Promise<ValidationReport> {
  if (files.length === 0) {
    return { rowCount: 0, columns: [], extraColumns: [], duplicateRows: 0, problems: [{ kind: 'empty', message: 'the partition has no files' }] };
  }
  const named: NamedFile[] = files.map((file, i) => ({ path: file, name: checks.fileNames?.[i] ?? path.basename(file) }));
  const subject = checks.subject ?? 'partition';
  const empty = await emptyFiles(named);
  if (empty.length > 0) throw new UnreadableSourceFileError(subject, empty);

  const relation = sourceRelation(files, format);
  return withDuckDB(async (connection) => {
    const read = <T>(query: () => Promise<T>) => readOrExplain(query, named, format, subject);
    const described = await read(() => describe(connection, relation));
    const actualByName = new Map(described.map((c) => [c.name.toLowerCase(), c]));
    const declaredNames = new Set(columns.map((c) => c.name.toLowerCase()));
    const problems: ValidationProblem[] = [];
    const present: PresentColumn[] = [];

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
      const isPartition = checks.partition !== undefined && spec.name.toLowerCase() === checks.partition.column.toLowerCase();
      present.push({
        spec,
        actualName: actual.name,
        duckdbType: actual.type,
        compatible,
        numeric: compatible && (spec.type === 'integer' || spec.type === 'double'),
        float: compatible && spec.type === 'double' && FLOAT_TYPES.has(actual.type),
        ...(isPartition && compatible && (spec.type === 'timestamp' || spec.type === 'date') ? { partitionDay: checks.partition!.day } : {}),
      });
    }

    // One scan computes every statistic and every count.
    const selects = ['count(*) AS row_count'];
    present.forEach(({ spec, actualName, numeric, float, partitionDay }, i) => {
      const c = quotedIdentifier(actualName);
      const finite = float ? ` FILTER (WHERE isfinite(${c}))` : '';
      const finiteAnd = float ? `isfinite(${c}) AND ` : '';
      selects.push(`count(*) - count(${c}) AS nulls_${i}`);
      if (numeric) {
        selects.push(`min(${c})${finite}::DOUBLE AS min_${i}`, `max(${c})${finite}::DOUBLE AS max_${i}`, `avg(${c})${finite}::DOUBLE AS mean_${i}`);
        selects.push(spec.min === undefined ? `0 AS below_${i}` : `count_if(${finiteAnd}${c} < ${sqlNumber(spec.min)}) AS below_${i}`);
        selects.push(spec.max === undefined ? `0 AS above_${i}` : `count_if(${finiteAnd}${c} > ${sqlNumber(spec.max)}) AS above_${i}`);
      } else {
        selects.push(`min(${c})::VARCHAR AS min_${i}`, `max(${c})::VARCHAR AS max_${i}`);
      }
      if (float) selects.push(`count_if(NOT isfinite(${c})) AS nonfinite_${i}`);
      if (partitionDay !== undefined) selects.push(`count_if(${outsideDay(c, partitionDay)}) AS outside_${i}`);
    });
    if (present.length > 0) selects.push(`count(*) - count(DISTINCT row(${present.map(canonicalValue).join(', ')})) AS duplicate_rows`);
    const [row] = await read(() => queryRows(connection, `SELECT ${selects.join(', ')} FROM ${relation}`));
    if (!row) throw new Error('validatePartition: the statistics query returned no row');

    const rowCount = Number(row.row_count);
    if (rowCount === 0) problems.push({ kind: 'empty', message: 'the partition has no rows' });

    // Per-row checks that failed are counted again per file, to name the files.
    const refused = present.filter(
      (column, i) =>
        (column.float && !column.spec.allowNonFinite && Number(row[`nonfinite_${i}`]) > 0) || (column.partitionDay !== undefined && Number(row[`outside_${i}`]) > 0),
    );
    const perFile = refused.length > 0 ? await read(() => countPerFile(connection, files, format, refused, named)) : new Map<string, FileCounts[]>();

    const stats: ColumnStats[] = present.map((column, i) => {
      const { spec, duckdbType, numeric, float, partitionDay } = column;
      const nulls = Number(row[`nulls_${i}`]);
      const min = toStat(row[`min_${i}`]);
      const max = toStat(row[`max_${i}`]);
      if (nulls > 0 && (!spec.nullable || partitionDay !== undefined)) {
        const why = spec.nullable ? 'but is the partition column: every row needs its day' : 'but is not nullable';
        problems.push({ column: spec.name, kind: 'nulls', message: `column '${spec.name}' has ${nulls} null${nulls === 1 ? '' : 's'} ${why}` });
      }
      if (partitionDay !== undefined) problems.push(...outsideDayProblems(spec.name, partitionDay, perFile.get(column.actualName) ?? []));
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
      const nonFinite = float ? Number(row[`nonfinite_${i}`]) : undefined;
      if (nonFinite && !spec.allowNonFinite) problems.push(...nonFiniteProblems(spec.name, perFile.get(column.actualName) ?? []));
      const mean = row[`mean_${i}`];
      return { name: spec.name, duckdbType, nulls, min, max, ...(typeof mean === 'number' ? { mean } : {}), ...(nonFinite === undefined ? {} : { nonFinite }) };
    });

    const duplicateRows = present.length > 0 ? Number(row.duplicate_rows) : 0;
    if (duplicateRows > 0 && (checks.duplicates ?? DEFAULT_DUPLICATE_RULE) === 'refuse') {
      problems.push({
        kind: 'duplicates',
        rows: duplicateRows,
        message:
          `${duplicateRows} row${duplicateRows === 1 ? ' repeats' : 's repeat'} another row in every declared column ` +
          `(schema.duplicates is 'refuse'; 'drop' keeps one of each, 'keep' keeps them all)`,
      });
    }

    const extraColumns = described.map((c) => c.name).filter((name) => !declaredNames.has(name.toLowerCase()));
    return { rowCount, columns: stats, extraColumns, duplicateRows, problems };
  });
}

/** A column's value as the snapshot will hold it (see writeSnapshot), so duplicates are counted as the snapshot sees them. */
function canonicalValue({ spec, actualName, compatible }: PresentColumn): string {
  const c = quotedIdentifier(actualName);
  return compatible ? `TRY_CAST(${c} AS ${CANONICAL_DUCKDB_TYPES[spec.type]})` : c;
}

/** SQL true for a non-null value whose UTC day (the session time zone is UTC) is not `day`. */
function outsideDay(column: string, day: string): string {
  return `CAST(${column} AS DATE) <> DATE ${quotedString(day)}`;
}

/** One file's counts for the columns whose per-row checks failed. */
interface FileCounts {
  readonly file: string;
  readonly outside: number;
  readonly firstOutside: string | null;
  readonly lastOutside: string | null;
  readonly nan: number;
  readonly infinity: number;
  readonly negativeInfinity: number;
}

/** Counts the failed per-row checks of `columns` per file; keyed by the column's name in the data. */
async function countPerFile(
  connection: DuckDBConnection,
  files: readonly string[],
  format: SourceFormat,
  columns: readonly PresentColumn[],
  named: readonly NamedFile[],
): Promise<Map<string, FileCounts[]>> {
  const selects = [`${quotedIdentifier(FILE_COLUMN)} AS file`];
  columns.forEach(({ actualName, float, partitionDay, spec }, i) => {
    const c = quotedIdentifier(actualName);
    if (partitionDay !== undefined) {
      const outside = outsideDay(c, partitionDay);
      const shown = (value: string) => (spec.type === 'date' ? `strftime(${value}, '%Y-%m-%d')` : `strftime(CAST(${value} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S')`);
      selects.push(
        `count_if(${outside}) AS outside_${i}`,
        `${shown(`min(${c}) FILTER (WHERE ${outside})`)} AS first_${i}`,
        `${shown(`max(${c}) FILTER (WHERE ${outside})`)} AS last_${i}`,
      );
    }
    if (float) selects.push(`count_if(isnan(${c})) AS nan_${i}`, `count_if(${c} = 'inf'::DOUBLE) AS inf_${i}`, `count_if(${c} = '-inf'::DOUBLE) AS ninf_${i}`);
  });
  const rows = await queryRows(connection, `SELECT ${selects.join(', ')} FROM ${sourceRelation(files, format, { fileColumn: FILE_COLUMN })} GROUP BY 1 ORDER BY 1`);
  const nameOf = new Map(named.map((f) => [f.path, f.name]));
  const counts = new Map<string, FileCounts[]>();
  columns.forEach(({ actualName }, i) => {
    counts.set(
      actualName,
      rows
        .map((r) => ({
          file: nameOf.get(String(r.file)) ?? path.basename(String(r.file)),
          outside: Number(r[`outside_${i}`] ?? 0),
          firstOutside: r[`first_${i}`] == null ? null : String(r[`first_${i}`]),
          lastOutside: r[`last_${i}`] == null ? null : String(r[`last_${i}`]),
          nan: Number(r[`nan_${i}`] ?? 0),
          infinity: Number(r[`inf_${i}`] ?? 0),
          negativeInfinity: Number(r[`ninf_${i}`] ?? 0),
        }))
        .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    );
  });
  return counts;
}

/** @example "partition column 'date': 312 rows of part-0.parquet have date outside 2001-01-08, e.g. 2001-01-09T06:00:00 (latest 2009-01-08T06:00:00)" */
function outsideDayProblems(column: string, day: string, files: readonly FileCounts[]): ValidationProblem[] {
  return files
    .filter((f) => f.outside > 0)
    .map((f) => {
      const latest = f.lastOutside !== null && f.lastOutside !== f.firstOutside ? ` (latest ${f.lastOutside})` : '';
      return {
        column,
        kind: 'outside_partition' as const,
        file: f.file,
        rows: f.outside,
        message: `${f.outside} row${f.outside === 1 ? '' : 's'} of ${f.file} ${f.outside === 1 ? 'has' : 'have'} ${column} outside ${day}, e.g. ${f.firstOutside}${latest}`,
      };
    });
}

/** @example "column 'score' has 3 non-finite values in part-0.parquet (2 NaN, 1 Infinity): set allowNonFinite: true on the column if they are meaningful" */
function nonFiniteProblems(column: string, files: readonly FileCounts[]): ValidationProblem[] {
  return files
    .map((f) => ({ f, total: f.nan + f.infinity + f.negativeInfinity }))
    .filter(({ total }) => total > 0)
    .map(({ f, total }) => {
      const parts = [
        [f.nan, 'NaN'],
        [f.infinity, 'Infinity'],
        [f.negativeInfinity, '-Infinity'],
      ]
        .filter(([n]) => Number(n) > 0)
        .map(([n, what]) => `${n} ${what}`)
        .join(', ');
      return {
        column,
        kind: 'non_finite' as const,
        file: f.file,
        rows: total,
        message: `column '${column}' has ${total} non-finite value${total === 1 ? '' : 's'} in ${f.file} (${parts}): set allowNonFinite: true on the column if they are meaningful`,
      };
    });
}

/**
 * Runs a query over the partition's files; when it fails, finds the files that cannot be
 * read and throws UnreadableSourceFileError naming them (permanent), or, when no single
 * file fails, an error naming the files (retried like any other failure).
 */
async function readOrExplain<T>(query: () => Promise<T>, files: readonly NamedFile[], format: SourceFormat, subject: string): Promise<T> {
  try {
    return await query();
  } catch (err) {
    const unreadable = await diagnoseSourceFiles(files, format);
    if (unreadable.length > 0) throw new UnreadableSourceFileError(subject, unreadable, { cause: err });
    const names = files.map((f) => f.path);
    const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
    throw new Error(`${subject}: cannot read partition files ${shown}: ${(err as Error).message}`, { cause: err });
  }
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

async function describe(connection: DuckDBConnection, relation: string): Promise<{ name: string; type: string }[]> {
  const rows = await queryRows(connection, `DESCRIBE SELECT * FROM ${relation}`);
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

function toStat(value: unknown): number | string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' || typeof value === 'string' ? value : String(value);
}

function sqlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`range bound must be finite, got ${n}`);
  return String(n);
}
