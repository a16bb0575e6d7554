import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { queryRows, withDuckDB } from './duckdb';
import { CSV_DIALECT, sourceRelation, type SourceFormat } from './source-relation';
import type { UnreadableFile } from './unreadable-source-file-error';

/** A local file of a partition and the name it has in the partition folder (what messages show). */
export interface NamedFile {
  readonly path: string;
  readonly name: string;
}

/** Lines reported per file; the rest are counted. */
const MAX_LINES_SHOWN = 3;

/**
 * The files of `files` that are empty (0 bytes): no format has an empty file as valid data.
 * A file that is not there is left to the reader (it is not a problem of its content).
 */
export async function emptyFiles(files: readonly NamedFile[]): Promise<UnreadableFile[]> {
  const sizes = await Promise.all(files.map((f) => sizeOf(f.path)));
  return files.filter((_, i) => sizes[i] === 0).map((f) => ({ file: f.name, reason: 'is empty (0 bytes)' }));
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Finds which files cannot be read, and why, by reading each one alone and in full (every
 * column decoded). For after reading them together failed: a file's own failure is
 * permanent, while a failure no single file shows is not a property of one file.
 * CSV problems name the line (from DuckDB's rejects table) and JSONL problems the line
 * that is not JSON (found by reading the file line by line).
 */
export async function diagnoseSourceFiles(files: readonly NamedFile[], format: SourceFormat): Promise<UnreadableFile[]> {
  const found: UnreadableFile[] = [];
  for (const file of files) {
    const size = await sizeOf(file.path);
    if (size === undefined) continue;
    if (size === 0) found.push({ file: file.name, reason: 'is empty (0 bytes)' });
    else found.push(...(await diagnoseFile(file, format)));
  }
  return found;
}

async function diagnoseFile(file: NamedFile, format: SourceFormat): Promise<UnreadableFile[]> {
  if (format === 'csv') return diagnoseCsv(file);
  const failure = await readFailure(sourceRelation([file.path], format));
  if (failure === undefined) return [];
  if (format === 'jsonl') {
    const lines = await invalidJsonLines(file);
    if (lines.length > 0) return lines;
  }
  return [{ file: file.name, reason: describeDuckDBFailure(failure, file, format) }];
}

/** The error message of reading every value of `relation`, or undefined when it reads. */
async function readFailure(relation: string, connection?: DuckDBConnection): Promise<string | undefined> {
  const read = async (c: DuckDBConnection) => {
    try {
      // hash() of every column makes DuckDB decode every value; count(*) alone may read only metadata.
      await queryRows(c, `SELECT bit_xor(hash(COLUMNS(*))) FROM ${relation}`);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
  return connection ? read(connection) : withDuckDB(read);
}

/** A CSV file's bad lines, from DuckDB's rejects table: wrong field counts, bytes that are not UTF-8, values that do not convert. */
async function diagnoseCsv(file: NamedFile): Promise<UnreadableFile[]> {
  return withDuckDB(async (connection) => {
    const suffix = randomBytes(4).toString('hex');
    const rejects = `rejects_${suffix}`;
    const scans = `reject_scans_${suffix}`;
    const relation =
      `read_csv(${quotedString(file.path)}, auto_detect = true, ${CSV_DIALECT}, hive_partitioning = false, ` +
      `store_rejects = true, rejects_table = ${quotedString(rejects)}, rejects_scan = ${quotedString(scans)})`;
    const failure = await readFailure(relation, connection);
    if (failure !== undefined) return [{ file: file.name, reason: describeDuckDBFailure(failure, file, 'csv') }];
    // A line with several missing fields has one reject per missing column; the first tells the field count.
    const rows = await queryRows(
      connection,
      `SELECT line, arg_min(error_type, column_idx) AS error_type, arg_min(error_message, column_idx) AS error_message, count(*) OVER () AS total ` +
        `FROM ${quotedIdentifier(rejects)} GROUP BY line ORDER BY line LIMIT ${MAX_LINES_SHOWN}`,
    );
    if (rows.length === 0) {
      // Read alone, with errors set aside, it has none: read it strictly to be sure.
      const strict = await readFailure(sourceRelation([file.path], 'csv'), connection);
      return strict === undefined ? [] : [{ file: file.name, reason: describeDuckDBFailure(strict, file, 'csv') }];
    }
    const total = Number(rows[0]!.total);
    const problems = rows.map((r) => ({ file: file.name, line: Number(r.line), reason: describeCsvReject(String(r.error_type), String(r.error_message)) }));
    if (total > rows.length) {
      const last = problems[problems.length - 1]!;
      problems[problems.length - 1] = { ...last, reason: `${last.reason} (and ${total - rows.length} more bad line${total - rows.length === 1 ? '' : 's'})` };
    }
    return problems;
  });
}

function describeCsvReject(errorType: string, message: string): string {
  const counts = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if ((errorType === 'TOO MANY COLUMNS' || errorType === 'MISSING COLUMNS') && counts) {
    return `has ${counts[2]} field${counts[2] === '1' ? '' : 's'} where the header has ${counts[1]}`;
  }
  if (errorType === 'INVALID ENCODING' || errorType === 'INVALID UNICODE') return 'is not UTF-8 (CSV files must be UTF-8)';
  const cast = /^Error when converting column "(.+?)"\. (.*)$/.exec(message.split('\n')[0]!.trim());
  if (errorType === 'CAST' && cast) return `has a value that does not fit column '${cast[1]}' (${cast[2]}; its type was detected from a sample of the file)`;
  return `cannot be read (${message.split('\n')[0]!.trim()})`;
}

/** Lines of a JSONL file that are not UTF-8 or not a JSON object (NaN and Infinity are accepted, as DuckDB does). */
export async function invalidJsonLines(file: NamedFile): Promise<UnreadableFile[]> {
  const problems: UnreadableFile[] = [];
  let bad = 0;
  let line = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const bytes of linesOf(file.path)) {
    line += 1;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      bad += 1;
      if (problems.length < MAX_LINES_SHOWN) problems.push({ file: file.name, line, reason: 'is not UTF-8 (JSONL files must be UTF-8)' });
      continue;
    }
    if (text.trim() === '') continue;
    const reason = jsonObjectProblem(text);
    if (reason === undefined) continue;
    bad += 1;
    if (problems.length < MAX_LINES_SHOWN) problems.push({ file: file.name, line, reason });
  }
  if (bad > problems.length && problems.length > 0) {
    const last = problems[problems.length - 1]!;
    problems[problems.length - 1] = { ...last, reason: `${last.reason} (and ${bad - problems.length} more bad line${bad - problems.length === 1 ? '' : 's'})` };
  }
  return problems;
}

function jsonObjectProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    try {
      // DuckDB reads bare NaN and Infinity as numbers: they are not a syntax error here (validation judges them).
      value = JSON.parse(text.replace(/(?<=[:,[]\s*)-?(?:NaN|Infinity)(?=\s*[,\]}])/g, 'null'));
    } catch {
      return `is not valid JSON (${(err as Error).message})`;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'is not a JSON object (each line must be one record)';
}

/** A file's lines as bytes, without the line break (`\n`, or `\r\n`). */
async function* linesOf(file: string): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file)) {
    let data = Buffer.concat([rest, chunk as Buffer]);
    let newline: number;
    while ((newline = data.indexOf(0x0a)) >= 0) {
      yield trimCarriageReturn(data.subarray(0, newline));
      data = data.subarray(newline + 1);
    }
    rest = data;
  }
  if (rest.length > 0) yield trimCarriageReturn(rest);
}

function trimCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}

/**
 * DuckDB's first line of an error, without its category prefix and without the file's
 * path (the caller names the file once), in words for the common Parquet failures.
 */
export function describeDuckDBFailure(message: string, file: NamedFile, format: SourceFormat): string {
  const first = (message.split('\n')[0] ?? message).replace(/^[A-Za-z ]*Error: /, '').trim();
  if (format === 'parquet') {
    if (/too small to be a Parquet file/.test(first)) return 'is not a Parquet file (too small: truncated, or not Parquet)';
    if (/No magic bytes found at end of file/.test(first)) return 'is not a complete Parquet file (no footer: truncated, or not Parquet)';
  }
  // `Failed to read file "/tmp/…/part-0.parquet": Snappy decompression failure` → `Failed to read: Snappy decompression failure`
  const quoted = new RegExp(`\\s*(?:(?:in|of|from|at end of) )?(?:file )?["']${escapeRegExp(file.path)}["'](:?)`, 'g');
  const withoutPath = first
    .replace(quoted, (_match, colon: string) => colon)
    .split(file.path)
    .join(file.name)
    .replace(/\s+/g, ' ')
    .trim();
  const kind = format === 'parquet' ? 'is corrupt or unsupported Parquet' : format === 'csv' ? 'cannot be read as CSV' : 'cannot be read as JSONL';
  return `${kind} (${withoutPath})`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
