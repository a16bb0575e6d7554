import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { quotedString } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../lib/spec/model-spec';
import { withDuckDB } from '../../lib/data/duckdb';
import type { SourceFormat } from '../../lib/data/source-relation';
import { validatePartition, type ValidationReport } from '../../lib/ingestion/schema-validation';

// Properties of validatePartition over generated partitions: valid rows always pass, and one
// bad value (NaN, Infinity, a row of another day) or a duplicate anywhere is always caught
// and counted exactly, in the file it is in.

const DAY = '2001-01-08';
const DAY_MS = Date.parse(`${DAY}T00:00:00Z`);
const MS_PER_DAY = 86_400_000;

interface Row {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly delay: number;
  readonly origin: string;
  readonly score: number | null;
}

const COLUMNS: ColumnSpec[] = [
  { name: 'date', type: 'timestamp', nullable: false },
  { name: 'delay', type: 'integer', nullable: false, min: -1440, max: 2880 },
  { name: 'origin', type: 'string', nullable: false },
  { name: 'score', type: 'double', nullable: true },
];

const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));
/** Valid rows of DAY; few distinct values, so that duplicates happen. */
const validRow: fc.Arbitrary<Row> = fc.record({
  at: fc.oneof(fc.constantFrom(DAY_MS, DAY_MS + MS_PER_DAY - 1), fc.integer({ min: DAY_MS, max: DAY_MS + MS_PER_DAY - 1 })),
  delay: fc.oneof(fc.constantFrom(-1440, 0, 15, 2880), fc.integer({ min: -1440, max: 2880 })),
  origin: fc.oneof(fc.constantFrom('SFO', 'LAX', "O'Hare, IL", 'Zürich "ZRH"', ''), fc.string({ maxLength: 8 }).filter((s) => !s.includes('\0'))),
  score: fc.option(fc.oneof(fc.constantFrom(0, 1.5, -2.25), finite), { nil: null }),
});
/** A table split over 1 to 3 files (each file gets at least one row). */
const table = fc.array(validRow, { minLength: 1, maxLength: 40 }).chain((rows) =>
  fc.tuple(fc.constant(rows), fc.array(fc.nat(), { minLength: rows.length, maxLength: rows.length }), fc.integer({ min: 1, max: Math.min(3, rows.length) })),
).map(([rows, draws, fileCount]) => ({ rows, fileOf: rows.map((_, i) => (i < fileCount ? i : draws[i]! % fileCount)), fileCount }));

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-validation-properties-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function timestampLiteral(ms: number): string {
  return `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

function doubleLiteral(x: number | null): string {
  return x === null ? 'NULL::DOUBLE' : `${quotedString(String(x))}::DOUBLE`;
}

/** Writes the rows of each file to part-<n>.<format>; returns the paths in file order. */
async function writeFiles(rows: readonly Row[], fileOf: readonly number[], fileCount: number, format: SourceFormat): Promise<string[]> {
  const run = `run-${counter++}`;
  const copyFormat = { parquet: 'parquet', csv: 'csv, HEADER', jsonl: 'json' }[format];
  const files: string[] = [];
  await withDuckDB(async (connection) => {
    for (let f = 0; f < fileCount; f++) {
      const mine = rows.filter((_, i) => fileOf[i] === f);
      const values = mine.map((r) => `(${timestampLiteral(r.at)}, ${r.delay}::INTEGER, ${quotedString(r.origin)}, ${doubleLiteral(r.score)})`).join(', ');
      const file = path.join(dir, `${run}-part-${f}.${format === 'jsonl' ? 'jsonl' : format}`);
      await connection.run(`COPY (SELECT * FROM (VALUES ${values}) t(date, delay, origin, score)) TO ${quotedString(file)} (FORMAT ${copyFormat})`);
      files.push(file);
    }
  });
  return files;
}

/** Rows minus distinct rows, as DuckDB compares them: NaN equals NaN, -0 equals 0, null equals null. */
function expectedDuplicates(rows: readonly Row[]): number {
  const key = (r: Row) => JSON.stringify([r.at, r.delay, r.origin, r.score === null ? 'null' : Number.isNaN(r.score) ? 'NaN' : String(r.score === 0 ? 0 : r.score)]);
  return rows.length - new Set(rows.map(key)).size;
}

const validate = (files: string[], format: SourceFormat, duplicates: 'keep' | 'refuse' = 'keep', columns = COLUMNS): Promise<ValidationReport> =>
  validatePartition(files, format, columns, { partition: { column: 'date', day: DAY }, duplicates, fileNames: files.map((f) => path.basename(f)) });

const RUNS = { numRuns: 60 };

describe('validatePartition properties', () => {
  it('passes any table of valid rows of the day, in any format and split, and counts its duplicates exactly', async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.constantFrom<SourceFormat>('parquet', 'parquet', 'jsonl'), async ({ rows: generated, fileOf, fileCount }, format) => {
        // JSON has no timestamp or null type: DuckDB detects one timestamp format per column (whole
        // seconds here) and gives a column that is null throughout the type JSON (one number avoids it).
        const rows =
          format === 'jsonl'
            ? generated.map((r, i) => ({ ...r, at: r.at - (r.at % 1000), score: i === 0 && r.score === null ? 1 : r.score }))
            : generated;
        const files = await writeFiles(rows, fileOf, fileCount, format);
        const report = await validate(files, format);
        expect(report.problems).toEqual([]);
        expect(report.rowCount).toBe(rows.length);
        expect(report.duplicateRows).toBe(expectedDuplicates(rows));
      }),
      RUNS,
    );
  });

  it('catches one NaN or infinity anywhere, counted once in its own file; allowNonFinite lets it through', async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.nat(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), async ({ rows, fileOf, fileCount }, where, bad) => {
        const k = where % rows.length;
        const dirty = rows.map((r, i) => (i === k ? { ...r, score: bad } : r));
        const files = await writeFiles(dirty, fileOf, fileCount, 'parquet');
        const report = await validate(files, 'parquet');
        const kind = Number.isNaN(bad) ? 'NaN' : bad > 0 ? 'Infinity' : '-Infinity';
        expect(report.problems).toEqual([
          {
            column: 'score',
            kind: 'non_finite',
            file: path.basename(files[fileOf[k]!]!),
            rows: 1,
            message: `column 'score' has 1 non-finite value in ${path.basename(files[fileOf[k]!]!)} (1 ${kind}): set allowNonFinite: true on the column if they are meaningful`,
          },
        ]);
        expect(report.columns.find((c) => c.name === 'score')?.nonFinite).toBe(1);
        const allowed = await validate(files, 'parquet', 'keep', COLUMNS.map((c) => (c.name === 'score' ? { ...c, allowNonFinite: true } : c)));
        expect(allowed.problems).toEqual([]);
      }),
      RUNS,
    );
  });

  it('catches rows of other days anywhere, counted exactly per file with the earliest as example', async () => {
    const otherDay = fc.oneof(
      fc.integer({ min: DAY_MS - 3000 * MS_PER_DAY, max: DAY_MS - 1 }),
      fc.integer({ min: DAY_MS + MS_PER_DAY, max: DAY_MS + 3000 * MS_PER_DAY }),
      fc.constantFrom(DAY_MS - 1, DAY_MS + MS_PER_DAY),
    );
    await fc.assert(
      fc.asyncProperty(table, fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 5 }), fc.array(otherDay, { minLength: 5, maxLength: 5 }), async ({ rows, fileOf, fileCount }, positions, moments) => {
        const moved = new Map(positions.map((p, j) => [p % rows.length, moments[j]!]));
        const dirty = rows.map((r, i) => (moved.has(i) ? { ...r, at: moved.get(i)! } : r));
        const files = await writeFiles(dirty, fileOf, fileCount, 'parquet');
        const report = await validate(files, 'parquet');
        const expected = files
          .map((file, f) => {
            const mine = [...moved].filter(([i]) => fileOf[i] === f).map(([, at]) => at);
            return { file: path.basename(file), rows: mine.length, first: mine.length ? new Date(Math.min(...mine)).toISOString().slice(0, 19) : '' };
          })
          .filter((e) => e.rows > 0);
        expect(report.problems.map((p) => ({ kind: p.kind, file: p.file, rows: p.rows }))).toEqual(expected.map((e) => ({ kind: 'outside_partition', file: e.file, rows: e.rows })));
        expected.forEach((e, j) => expect(report.problems[j]!.message).toContain(`${e.rows} row${e.rows === 1 ? '' : 's'} of ${e.file} ${e.rows === 1 ? 'has' : 'have'} date outside ${DAY}, e.g. ${e.first}`));
      }),
      RUNS,
    );
  });

  it("counts a row repeated anywhere (in any file) as one more duplicate, and 'refuse' refuses exactly then", async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.nat(), fc.nat(), async ({ rows, fileOf, fileCount }, source, target) => {
        const copy = rows[source % rows.length]!;
        const withCopy = [...rows, copy];
        const files = await writeFiles(withCopy, [...fileOf, target % fileCount], fileCount, 'parquet');
        const report = await validate(files, 'parquet', 'refuse');
        const duplicates = expectedDuplicates(withCopy);
        expect(duplicates).toBe(expectedDuplicates(rows) + 1);
        expect(report.duplicateRows).toBe(duplicates);
        expect(report.problems.map((p) => [p.kind, p.rows])).toEqual([['duplicates', duplicates]]);
      }),
      RUNS,
    );
  });
});
