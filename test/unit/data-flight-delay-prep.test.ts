import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotedString } from '@duckdb/node-api';
import { queryRows, withDuckDB } from '../../lib/data/duckdb';
import { FLIGHTS_PARQUET, prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-prep-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rows of flights-3m on `day`, counted by a different predicate than the prep's. */
async function sourceCount(day: string): Promise<number> {
  return withDuckDB(async (connection) => {
    const [row] = await queryRows(connection, `SELECT count(*) AS n FROM read_parquet(${quotedString(FLIGHTS_PARQUET)}) WHERE CAST("date" AS DATE) = DATE '${day}'`);
    return Number(row?.n);
  });
}

describe('prepareFlightDelayPartitions', () => {
  it('resolves flights-3m.parquet inside vega-datasets', async () => {
    expect(FLIGHTS_PARQUET).toMatch(/vega-datasets[/\\]data[/\\]flights-3m\.parquet$/);
    expect((await stat(FLIGHTS_PARQUET)).size).toBeGreaterThan(1_000_000);
  });

  it('writes one partition per day whose rows are exactly that day’s flights, with the original columns', async () => {
    const prepared = await prepareFlightDelayPartitions({ from: '2001-01-07', to: '2001-01-08', target: { kind: 'local', dir } });

    expect(prepared.map((p) => p.day)).toEqual(['2001-01-07', '2001-01-08']);
    expect(await readdir(dir)).toEqual(['date=2001-01-07', 'date=2001-01-08']);
    for (const p of prepared) {
      expect(p.key).toBe(path.join(dir, `date=${p.day}`, 'part-0.parquet'));
      expect(p.written).toBe(true);
      expect(p.rows).toBe(await sourceCount(p.day));
      expect(p.rows).toBeGreaterThan(10_000);
    }

    const [described, bounds] = await withDuckDB(async (connection) => {
      const file = quotedString(prepared[1]!.key);
      return Promise.all([
        queryRows(connection, `DESCRIBE SELECT * FROM read_parquet(${file}, hive_partitioning = false)`),
        queryRows(connection, `SELECT min("date")::VARCHAR AS lo, max("date")::VARCHAR AS hi, count(*) AS n FROM read_parquet(${file}, hive_partitioning = false)`),
      ]);
    });
    expect(described.map((c) => [c.column_name, c.column_type])).toEqual([
      ['date', 'TIMESTAMP'],
      ['delay', 'BIGINT'],
      ['distance', 'BIGINT'],
      ['origin', 'VARCHAR'],
      ['destination', 'VARCHAR'],
    ]);
    expect(String(bounds[0]?.lo)).toMatch(/^2001-01-08 /);
    expect(String(bounds[0]?.hi)).toMatch(/^2001-01-08 /);
  });

  it('changes nothing when run again over the same days', async () => {
    const first = await prepareFlightDelayPartitions({ from: '2001-01-07', to: '2001-01-08', target: { kind: 'local', dir } });
    const mtimes = await Promise.all(first.map(async (p) => (await stat(p.key)).mtimeMs));

    const again = await prepareFlightDelayPartitions({ from: '2001-01-07', to: '2001-01-08', target: { kind: 'local', dir } });

    expect(again.map((p) => p.written)).toEqual([false, false]);
    expect(again.map((p) => p.sha256)).toEqual(first.map((p) => p.sha256));
    expect(await Promise.all(again.map(async (p) => (await stat(p.key)).mtimeMs))).toEqual(mtimes);
    // No temporary files are left beside the partitions.
    expect(await readdir(path.join(dir, 'date=2001-01-08'))).toEqual(['part-0.parquet']);
  });

  it('rejects a day without flights and an inverted range', async () => {
    await expect(prepareFlightDelayPartitions({ from: '2001-08-01', to: '2001-08-01', target: { kind: 'local', dir } })).rejects.toThrow(
      'no flights on 2001-08-01',
    );
    await expect(prepareFlightDelayPartitions({ from: '2001-01-08', to: '2001-01-07', target: { kind: 'local', dir } })).rejects.toThrow(
      'invalid day range',
    );
    expect(await readdir(dir)).toEqual(['date=2001-01-07', 'date=2001-01-08']);
  });
});
