import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotedString } from '@duckdb/node-api';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { type ColumnSpec } from '../../lib/spec/model-spec';
import { queryRows, withDuckDB } from '../../lib/data/duckdb';
import { sha256OfFile } from '../../lib/data/file-hash';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { writeSnapshot } from '../../lib/ingestion/snapshot-writer';

const spec = loadModelSpec(path.join(__dirname, '../../examples/flight-delay/model.json'));
const columns: ColumnSpec[] = spec.schema.columns;
let dir: string;
let days: string[];

async function copyTo(name: string, select: string): Promise<string> {
  const file = path.join(dir, name);
  const format = name.endsWith('.csv') ? 'csv, HEADER' : 'parquet';
  await withDuckDB((connection) => connection.run(`COPY (${select}) TO ${quotedString(file)} (FORMAT ${format})`));
  return file;
}

async function describeFile(file: string): Promise<string[][]> {
  return withDuckDB(async (connection) => {
    const rows = await queryRows(connection, `DESCRIBE SELECT * FROM read_parquet(${quotedString(file)})`);
    return rows.map((r) => [String(r.column_name), String(r.column_type)]);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-snapshot-test-'));
  const prepared = await prepareFlightDelayPartitions({ from: '2001-01-07', to: '2001-01-08', target: { kind: 'local', dir: path.join(dir, 'source') } });
  days = prepared.map((p) => p.key);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeSnapshot', () => {
  it('writes byte-identical files for the same input', async () => {
    const a = path.join(dir, 'out', 'a.parquet');
    const b = path.join(dir, 'out', 'b.parquet');
    const first = await writeSnapshot(days, 'parquet', columns, a);
    const second = await writeSnapshot(days, 'parquet', columns, b);

    expect(first.rowCount).toBe(16339 + 16938);
    expect(second.rowCount).toBe(first.rowCount);
    expect(await sha256OfFile(b)).toBe(await sha256OfFile(a));
    // Nothing but the snapshots is left in the folder (the temporary file was renamed).
    expect((await readdir(path.join(dir, 'out'))).sort()).toEqual(['a.parquet', 'b.parquet']);
  });

  it('gives the same bytes whatever the order of rows and files in the source', async () => {
    // Same rows, shuffled, split differently over two files.
    const all = `SELECT * FROM read_parquet([${days.map(quotedString).join(', ')}], hive_partitioning = false)`;
    const x = await copyTo('shuffled-1.parquet', `SELECT * FROM (${all}) WHERE origin < 'M' ORDER BY hash(origin, delay, date)`);
    const y = await copyTo('shuffled-2.parquet', `SELECT * FROM (${all}) WHERE origin >= 'M' ORDER BY destination DESC, delay`);

    await writeSnapshot(days, 'parquet', columns, path.join(dir, 'ordered.parquet'));
    const { rowCount } = await writeSnapshot([y, x], 'parquet', columns, path.join(dir, 'shuffled.parquet'));

    expect(rowCount).toBe(16339 + 16938);
    expect(await sha256OfFile(path.join(dir, 'shuffled.parquet'))).toBe(await sha256OfFile(path.join(dir, 'ordered.parquet')));
  });

  it('keeps only declared columns, cast to canonical types, sorted by the declared columns', async () => {
    const narrow = await copyTo(
      'narrow.csv',
      `SELECT CAST(date AS DATE) AS day, CAST(delay AS INTEGER) AS delay, CAST(distance AS SMALLINT) AS distance, origin, 'x' AS extra
       FROM read_parquet(${quotedString(days[0]!)}, hive_partitioning = false) ORDER BY origin DESC LIMIT 500`,
    );
    const declared: ColumnSpec[] = [
      { name: 'day', type: 'timestamp', nullable: false },
      { name: 'delay', type: 'double', nullable: false },
      { name: 'distance', type: 'integer', nullable: false },
      { name: 'origin', type: 'string', nullable: false },
    ];
    const out = path.join(dir, 'canonical.parquet');
    const { rowCount } = await writeSnapshot([narrow], 'csv', declared, out);

    expect(rowCount).toBe(500);
    expect(await describeFile(out)).toEqual([
      ['day', 'TIMESTAMP'],
      ['delay', 'DOUBLE'],
      ['distance', 'BIGINT'],
      ['origin', 'VARCHAR'],
    ]);
    const [asStored, sorted] = await withDuckDB(async (connection) => {
      const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRowsJson();
      return [await read(`SELECT * FROM read_parquet(${quotedString(out)})`), await read(`SELECT * FROM read_parquet(${quotedString(out)}) ORDER BY ALL`)];
    });
    expect(asStored).toEqual(sorted);
  });

  it('converts a TIMESTAMPTZ column to UTC wall-clock time', async () => {
    const file = await copyTo('tz.parquet', `SELECT TIMESTAMPTZ '2001-01-08 23:30:00-05:00' AS ts`);
    const out = path.join(dir, 'tz-snapshot.parquet');
    await writeSnapshot([file], 'parquet', [{ name: 'ts', type: 'timestamp', nullable: false }], out);
    const rows = await withDuckDB((connection) => queryRows(connection, `SELECT ts::VARCHAR AS ts FROM read_parquet(${quotedString(out)})`));
    expect(rows).toEqual([{ ts: '2001-01-09 04:30:00' }]);
  });

  it('fails without leaving a file when a value cannot be cast', async () => {
    const file = await copyTo('bad.parquet', `SELECT 'not a number' AS delay`);
    const out = path.join(dir, 'bad-out', 'bad.parquet');
    await expect(writeSnapshot([file], 'parquet', [{ name: 'delay', type: 'integer', nullable: false }], out)).rejects.toThrow(/Conversion Error/);
    expect(await readdir(path.join(dir, 'bad-out'))).toEqual([]);
  });
});
