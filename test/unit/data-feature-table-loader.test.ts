import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotedString } from '@duckdb/node-api';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { parseModelSpec, type ModelSpec } from '../../lib/spec/model-spec';
import { queryRows, withDuckDB } from '../../lib/data/duckdb';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { trainingWindowDays } from '../../lib/data/partition-day';
import { writeSnapshot } from '../../lib/ingestion/snapshot-writer';

const specFile = path.join(__dirname, '../../examples/flight-delay/model.json');
const spec = loadModelSpec(specFile);
let dir: string;
let snapshots: string[];

/** The example spec with some fields replaced, without its monitoring block (its trigger names features a variant may drop). */
function variant(changes: Partial<Pick<ModelSpec, 'features' | 'label'>>): ModelSpec {
  const { monitoring: _monitoring, ...rest } = spec;
  return parseModelSpec({ ...rest, ...changes });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-features-test-'));
  const days = trainingWindowDays('2001-01-15', spec.training.windowPartitions);
  const prepared = await prepareFlightDelayPartitions({ from: days[0]!, to: days.at(-1)!, target: { kind: 'local', dir: path.join(dir, 'source') } });
  snapshots = [];
  for (const p of prepared) {
    const out = path.join(dir, 'snapshots', `${p.day}.parquet`);
    await writeSnapshot([p.key], 'parquet', spec.schema.columns, out);
    snapshots.push(out);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadFeatureTable', () => {
  it('loads a week of flights quickly, with every row labelled and about 20 % delayed', async () => {
    const started = performance.now();
    const table = await loadFeatureTable(snapshots, spec);
    const elapsed = performance.now() - started;

    const [counted] = await withDuckDB((connection) =>
      queryRows(connection, `SELECT count(*) AS n FROM read_parquet([${snapshots.map(quotedString).join(', ')}])`),
    );
    expect(table.rows).toBe(Number(counted?.n));
    expect(table.rows).toBeGreaterThan(100_000);
    expect(Object.keys(table.numeric)).toEqual(['dep_hour', 'weekday', 'distance']);
    expect(Object.keys(table.categorical)).toEqual(['origin', 'destination']);
    for (const column of [...Object.values(table.numeric), ...Object.values(table.categorical)]) expect(column.length).toBe(table.rows);
    expect(table.label).toBeInstanceOf(Uint8Array);
    const rate = table.label!.reduce((sum, y) => sum + y, 0) / table.rows;
    expect(rate).toBeGreaterThan(0.15);
    expect(rate).toBeLessThan(0.3);
    // The budget is 2 s; locally it takes ~0.2 s.
    expect(elapsed).toBeLessThan(2000);
  });

  it('matches a direct DuckDB query row for row on sampled rows', async () => {
    const table = await loadFeatureTable(snapshots, spec);
    const expected = await withDuckDB((connection) =>
      queryRows(
        connection,
        `SELECT hour(date) + minute(date) / 60.0 AS dep_hour, isodow(date) AS weekday, distance, origin, destination, delay > 15 AS delayed
         FROM read_parquet([${snapshots.map(quotedString).join(', ')}])
         ORDER BY date, delay, distance, origin, destination`,
      ),
    );
    expect(expected.length).toBe(table.rows);
    for (const i of [0, 1, 777, 54_321, table.rows - 1]) {
      const row = expected[i]!;
      expect(table.numeric.dep_hour![i]).toBeCloseTo(Number(row.dep_hour), 12);
      expect(table.numeric.weekday![i]).toBe(Number(row.weekday));
      expect(table.numeric.distance![i]).toBe(Number(row.distance));
      expect(table.categorical.origin![i]).toBe(row.origin);
      expect(table.categorical.destination![i]).toBe(row.destination);
      expect(table.label![i]).toBe(row.delayed ? 1 : 0);
    }
  });

  it('returns the same table for the same snapshots', async () => {
    const a = await loadFeatureTable(snapshots.slice(0, 2), spec);
    const b = await loadFeatureTable(snapshots.slice(0, 2).reverse(), spec);
    expect(b.numeric).toEqual(a.numeric);
    expect(b.categorical).toEqual(a.categorical);
    expect(b.label).toEqual(a.label);
  });

  it('maps null features to NaN or null and drops rows without a label', async () => {
    const file = path.join(dir, 'gaps.parquet');
    await withDuckDB((connection) =>
      connection.run(
        `COPY (SELECT TIMESTAMP '2001-01-08 10:00:00' + to_minutes(i) AS date,
                      CASE WHEN i = 1 THEN NULL ELSE i * 10 END AS delay,
                      CASE WHEN i = 2 THEN NULL ELSE 100 + i END AS distance,
                      CASE WHEN i = 3 THEN NULL ELSE 'SFO' END AS origin,
                      'LAX' AS destination
               FROM range(5) t(i)) TO ${quotedString(file)} (FORMAT parquet)`,
      ),
    );
    const labelled = await loadFeatureTable([file], spec);
    expect(labelled.rows).toBe(4);
    expect(Array.from(labelled.numeric.distance!)).toEqual([100, NaN, 103, 104]);
    expect(labelled.categorical.origin).toEqual(['SFO', 'SFO', null, 'SFO']);
    expect(Array.from(labelled.label!)).toEqual([0, 1, 1, 1]);

    const unlabelled = await loadFeatureTable([file], spec, { withLabel: false });
    expect(unlabelled.rows).toBe(5);
    expect(unlabelled.label).toBeUndefined();
  });

  it('names the feature whose expression is invalid', async () => {
    const unknownColumn = variant({ features: [...spec.features, { name: 'late_night', kind: 'numeric', sql: 'hour(departure) >= 22' }] });
    await expect(loadFeatureTable(snapshots.slice(0, 1), unknownColumn)).rejects.toThrow(/^feature 'late_night' \(sql: hour\(departure\) >= 22\) cannot be computed: Binder Error/);

    // Fails only at run time, when a value is converted.
    const notNumeric = variant({ features: [{ name: 'origin', kind: 'numeric' }] });
    await expect(loadFeatureTable(snapshots.slice(0, 1), notNumeric)).rejects.toThrow(/^feature 'origin' \(sql: "origin"\) cannot be computed: Conversion Error/);

    const badLabel = variant({ label: { name: 'delayed', sql: 'delay >' } });
    await expect(loadFeatureTable(snapshots.slice(0, 1), badLabel)).rejects.toThrow(/^label 'delayed' \(sql: delay >\) cannot be computed/);
  });
});
