import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotedString } from '@duckdb/node-api';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { type ColumnSpec } from '../../lib/spec/model-spec';
import { withDuckDB } from '../../lib/data/duckdb';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { assertValidPartition, isCompatibleType, SchemaValidationError, validatePartition } from '../../lib/ingestion/schema-validation';

const spec = loadModelSpec(path.join(__dirname, '../../examples/flight-delay/model.json'));
const columns: ColumnSpec[] = spec.schema.columns;
let dir: string;
let good: string;

/** Writes the result of `select` to `<dir>/<name>` with DuckDB COPY (format from the extension). */
async function copyTo(name: string, select: string): Promise<string> {
  const file = path.join(dir, name);
  const format = name.endsWith('.csv') ? 'csv, HEADER' : name.endsWith('.jsonl') ? 'json' : 'parquet';
  await withDuckDB((connection) => connection.run(`COPY (${select}) TO ${quotedString(file)} (FORMAT ${format})`));
  return file;
}

const fromGood = () => `SELECT * FROM read_parquet(${quotedString(good)}, hive_partitioning = false)`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-validation-test-'));
  const [prepared] = await prepareFlightDelayPartitions({ from: '2001-01-08', to: '2001-01-08', target: { kind: 'local', dir } });
  good = prepared!.key;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('validatePartition', () => {
  it('passes a prepared flights partition and reports its statistics', async () => {
    const report = await validatePartition([good], 'parquet', columns);

    expect(report.problems).toEqual([]);
    expect(report.rowCount).toBe(16938);
    expect(report.extraColumns).toEqual([]);
    expect(report.columns.map((c) => [c.name, c.duckdbType, c.nulls])).toEqual([
      ['date', 'TIMESTAMP', 0],
      ['delay', 'BIGINT', 0],
      ['distance', 'BIGINT', 0],
      ['origin', 'VARCHAR', 0],
      ['destination', 'VARCHAR', 0],
    ]);
    const delay = report.columns.find((c) => c.name === 'delay')!;
    expect(typeof delay.min).toBe('number');
    expect(delay.mean).toBeGreaterThan(-100);
    expect(report.columns[0]!.min).toMatch(/^2001-01-08 /);
  });

  it('names a missing column', async () => {
    const file = await copyTo('no-distance.parquet', `SELECT * EXCLUDE (distance) FROM (${fromGood()})`);
    const report = await validatePartition([file], 'parquet', columns);
    expect(report.problems).toEqual([{ column: 'distance', kind: 'missing_column', message: "column 'distance' is missing" }]);
    expect(report.columns.map((c) => c.name)).toEqual(['date', 'delay', 'origin', 'destination']);
  });

  it('names a column of the wrong type with the expected and actual types', async () => {
    const file = await copyTo('delay-varchar.parquet', `SELECT * REPLACE (CAST(delay AS VARCHAR) AS delay) FROM (${fromGood()})`);
    const report = await validatePartition([file], 'parquet', columns);
    expect(report.problems).toEqual([{ column: 'delay', kind: 'wrong_type', message: "column 'delay' has type VARCHAR, expected integer" }]);
    // A wrongly typed column still gets null counts and (text) bounds, but no range check.
    expect(report.columns.find((c) => c.name === 'delay')).toMatchObject({ duckdbType: 'VARCHAR', nulls: 0 });
  });

  it('throws one SchemaValidationError listing every problem', async () => {
    const file = await copyTo(
      'both.parquet',
      `SELECT * EXCLUDE (distance) REPLACE (CAST(delay AS VARCHAR) AS delay) FROM (${fromGood()})`,
    );
    const report = await validatePartition([file], 'parquet', columns);
    let thrown: unknown;
    try {
      assertValidPartition(report, 'partition date=2001-01-08 of flight-delay');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SchemaValidationError);
    expect(thrown).toMatchObject({
      type: 'SchemaValidation',
      message: "partition date=2001-01-08 of flight-delay is invalid: column 'delay' has type VARCHAR, expected integer; column 'distance' is missing",
    });
    expect((thrown as SchemaValidationError).problems.map((p) => p.kind)).toEqual(['wrong_type', 'missing_column']);
    expect(() => assertValidPartition(report, 'x')).toThrow(SchemaValidationError);
  });

  it('counts nulls in non-nullable columns and values outside the declared range', async () => {
    // 40 rows: delay is null for i = 0, 10, 20, 30 and i*200-1500 otherwise, so above 2880 for i >= 22 (17 non-null rows);
    // destination is null once.
    const file = await copyTo(
      'dirty.parquet',
      `SELECT TIMESTAMP '2001-01-08 10:00:00' + to_minutes(i) AS date,
              CASE WHEN i % 10 = 0 THEN NULL ELSE i * 200 - 1500 END AS delay,
              i * 100 AS distance, 'SFO' AS origin,
              CASE WHEN i = 3 THEN NULL ELSE 'LAX' END AS destination
       FROM range(40) t(i)`,
    );
    const report = await validatePartition([file], 'parquet', columns);
    expect(report.problems).toEqual([
      { column: 'delay', kind: 'nulls', message: "column 'delay' has 4 nulls but is not nullable" },
      { column: 'delay', kind: 'out_of_range', message: "column 'delay' has 17 values outside [-1440, 2880] (observed min -1300, max 6300)" },
      { column: 'destination', kind: 'nulls', message: "column 'destination' has 1 null but is not nullable" },
    ]);
    expect(report.columns.find((c) => c.name === 'delay')).toMatchObject({ nulls: 4, min: -1300, max: 6300 });

    const lenient = columns.map((c) => ({ ...c, nullable: true, min: undefined, max: undefined }));
    expect((await validatePartition([file], 'parquet', lenient)).problems).toEqual([]);
  });

  it('reports an empty partition', async () => {
    const file = await copyTo('empty.parquet', `${fromGood()} LIMIT 0`);
    const report = await validatePartition([file], 'parquet', columns);
    expect(report.rowCount).toBe(0);
    expect(report.problems).toEqual([{ kind: 'empty', message: 'the partition has no rows' }]);
    expect((await validatePartition([], 'parquet', columns)).problems.map((p) => p.kind)).toEqual(['empty']);
  });

  it('lists undeclared columns without failing', async () => {
    const file = await copyTo('extra.parquet', `SELECT *, 'AA' AS carrier FROM (${fromGood()})`);
    const report = await validatePartition([file], 'parquet', columns);
    expect(report.problems).toEqual([]);
    expect(report.extraColumns).toEqual(['carrier']);
  });

  it('reads CSV and JSONL partitions of several files by column name', async () => {
    const csvA = await copyTo('a.csv', `${fromGood()} ORDER BY ALL LIMIT 100`);
    // Different column order in the second file: union_by_name matches them up.
    const csvB = await copyTo('b.csv', `SELECT origin, destination, distance, delay, date FROM (${fromGood()}) ORDER BY ALL DESC LIMIT 50`);
    const csv = await validatePartition([csvA, csvB], 'csv', columns);
    expect(csv.problems).toEqual([]);
    expect(csv.rowCount).toBe(150);
    expect(csv.columns.map((c) => c.duckdbType)).toEqual(['TIMESTAMP', 'BIGINT', 'BIGINT', 'VARCHAR', 'VARCHAR']);

    const jsonl = await copyTo('a.jsonl', `${fromGood()} LIMIT 100`);
    const json = await validatePartition([jsonl], 'jsonl', columns);
    expect(json.problems).toEqual([]);
    expect(json.rowCount).toBe(100);
  });

  it('does not let the date=YYYY-MM-DD folder name replace the date column', async () => {
    // Hive partitioning would turn `date` into the folder's DATE value (or fail): it must stay the file's TIMESTAMP.
    const report = await validatePartition([good], 'parquet', [{ name: 'date', type: 'timestamp', nullable: false }]);
    expect(report.columns[0]).toMatchObject({ duckdbType: 'TIMESTAMP' });
    expect(report.columns[0]!.max).not.toBe('2001-01-08');
  });

  it('fails with the file names when a file cannot be read', async () => {
    await expect(validatePartition([path.join(dir, 'nope.parquet')], 'parquet', columns)).rejects.toThrow(
      `cannot read partition files ${path.join(dir, 'nope.parquet')}`,
    );
  });
});

describe('isCompatibleType', () => {
  it('maps declared types to families of DuckDB types', () => {
    expect(isCompatibleType('integer', 'INTEGER')).toBe(true);
    expect(isCompatibleType('integer', 'UBIGINT')).toBe(true);
    expect(isCompatibleType('integer', 'HUGEINT')).toBe(true);
    expect(isCompatibleType('integer', 'DECIMAL(18,0)')).toBe(true);
    expect(isCompatibleType('integer', 'DECIMAL(18,3)')).toBe(false);
    expect(isCompatibleType('integer', 'DOUBLE')).toBe(false);
    expect(isCompatibleType('double', 'FLOAT')).toBe(true);
    expect(isCompatibleType('double', 'DECIMAL(18,3)')).toBe(true);
    expect(isCompatibleType('double', 'BIGINT')).toBe(true);
    expect(isCompatibleType('double', 'VARCHAR')).toBe(false);
    expect(isCompatibleType('string', 'VARCHAR')).toBe(true);
    expect(isCompatibleType('string', 'BIGINT')).toBe(false);
    expect(isCompatibleType('timestamp', 'TIMESTAMP_NS')).toBe(true);
    expect(isCompatibleType('timestamp', 'TIMESTAMP WITH TIME ZONE')).toBe(true);
    expect(isCompatibleType('timestamp', 'DATE')).toBe(true);
    expect(isCompatibleType('timestamp', 'VARCHAR')).toBe(false);
    expect(isCompatibleType('date', 'DATE')).toBe(true);
    expect(isCompatibleType('date', 'TIMESTAMP')).toBe(false);
    expect(isCompatibleType('boolean', 'BOOLEAN')).toBe(true);
    expect(isCompatibleType('boolean', 'INTEGER')).toBe(false);
  });
});
