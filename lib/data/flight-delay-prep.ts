import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { withDuckDB } from './duckdb';
import { sha256OfFile } from './file-hash';
import { addDays, daysInRange, parsePartitionDay } from './partition-day';
import { partitionFolderName, s3KeyPrefix } from './partition-source';

/**
 * Absolute path of vega-datasets' flights-3m.parquet (3M US flights, Jan-Jun 2001).
 * The package exports only its entry point, so the path is found from there.
 */
export const FLIGHTS_PARQUET: string = resolveFlightsParquet();

function resolveFlightsParquet(): string {
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  let dir = path.dirname(entry);
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'data', 'flights-3m.parquet');
}

/** Where prepared partitions go: `<dir or prefix>/date=YYYY-MM-DD/part-0.parquet`. */
export type FlightDelayPrepTarget =
  | { readonly kind: 'local'; readonly dir: string }
  | { readonly kind: 's3'; readonly client: S3Client; readonly bucket: string; readonly prefix: string };

export interface PrepareFlightDelayOptions {
  /** Defaults to FLIGHTS_PARQUET. */
  readonly sourceParquet?: string;
  /** First and last day, both inclusive (YYYY-MM-DD). */
  readonly from: string;
  readonly to: string;
  readonly target: FlightDelayPrepTarget;
  readonly log?: (message: string) => void;
}

export interface PreparedPartition {
  readonly day: string;
  readonly rows: number;
  /** Absolute file path (local target) or object key (S3 target). */
  readonly key: string;
  readonly sha256: string;
  /** False when an identical file was already there. */
  readonly written: boolean;
}

/** Name of the single file of each prepared partition. */
export const PREPARED_FILE_NAME = 'part-0.parquet';
const PARTITION_COLUMN = 'date';

/**
 * Splits flights-3m into one Parquet partition per day (original columns, rows sorted,
 * zstd), the source layout of the flight-delay example. Idempotent: a day whose file
 * already holds the same bytes is left alone, so re-running writes nothing.
 */
export async function prepareFlightDelayPartitions(options: PrepareFlightDelayOptions): Promise<PreparedPartition[]> {
  const sourceParquet = options.sourceParquet ?? FLIGHTS_PARQUET;
  if (!existsSync(sourceParquet)) throw new Error(`flights source ${sourceParquet} does not exist`);
  const days = daysInRange(parsePartitionDay(options.from, 'from day'), parsePartitionDay(options.to, 'to day'));
  const { target } = options;
  const log = options.log ?? (() => {});
  const scratch = target.kind === 's3' ? await mkdtemp(path.join(os.tmpdir(), 'retrain-flight-prep-')) : undefined;

  try {
    // One thread: the same day always produces the same bytes, which is what makes re-runs no-ops.
    return await withDuckDB(async (connection) => {
      const prepared: PreparedPartition[] = [];
      for (const day of days) {
        const relative = `${partitionFolderName(PARTITION_COLUMN, day)}/${PREPARED_FILE_NAME}`;
        const started = performance.now();
        const result =
          target.kind === 'local'
            ? await prepareLocal(connection, sourceParquet, day, path.resolve(target.dir), path.join(path.resolve(target.dir), relative))
            : await prepareS3(connection, sourceParquet, day, target, `${s3KeyPrefix(target.prefix)}${relative}`, scratch!);
        prepared.push(result);
        log(`flight-delay prep ${day}: ${result.rows} rows ${result.written ? 'written to' : 'unchanged at'} ${result.key} (${Math.round(performance.now() - started)} ms)`);
      }
      return prepared;
    }, 'deterministic');
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function prepareLocal(connection: DuckDBConnection, sourceParquet: string, day: string, root: string, finalFile: string): Promise<PreparedPartition> {
  await mkdir(root, { recursive: true });
  // Written in the target root (same file system, so the rename is atomic) and under a name
  // without the .parquet extension, so readers never see a half-written partition file.
  const partial = path.join(root, `.${day}.${randomBytes(6).toString('hex')}.partial`);
  try {
    const rows = await writeDay(connection, sourceParquet, day, partial);
    const sha256 = await sha256OfFile(partial);
    if (existsSync(finalFile) && (await sha256OfFile(finalFile)) === sha256) {
      await rm(partial, { force: true });
      return { day, rows, key: finalFile, sha256, written: false };
    }
    await mkdir(path.dirname(finalFile), { recursive: true });
    await rename(partial, finalFile);
    return { day, rows, key: finalFile, sha256, written: true };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

async function prepareS3(
  connection: DuckDBConnection,
  sourceParquet: string,
  day: string,
  target: Extract<FlightDelayPrepTarget, { kind: 's3' }>,
  key: string,
  scratch: string,
): Promise<PreparedPartition> {
  const file = path.join(scratch, `${day}.parquet`);
  const rows = await writeDay(connection, sourceParquet, day, file);
  const sha256 = await sha256OfFile(file);
  if ((await storedSha256(target.client, target.bucket, key)) === sha256) {
    return { day, rows, key, sha256, written: false };
  }
  await target.client.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: key,
      Body: await readFile(file),
      ContentType: 'application/vnd.apache.parquet',
      // Lets the next run see "same content" with a HEAD request instead of a download.
      Metadata: { sha256 },
    }),
  );
  return { day, rows, key, sha256, written: true };
}

/** The sha256 recorded on an existing object, or undefined when there is no object (or no record). */
async function storedSha256(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.sha256;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (err as Error).name === 'NotFound') return undefined;
    throw err;
  }
}

/** One day's flights ([day 00:00, next day 00:00)) to `file`, sorted by all columns. */
async function writeDay(connection: DuckDBConnection, sourceParquet: string, day: string, file: string): Promise<number> {
  const next = addDays(day, 1);
  const result = await connection.run(
    `COPY (SELECT * FROM read_parquet(${quotedString(sourceParquet)}, hive_partitioning = false) ` +
      `WHERE "date" >= TIMESTAMP '${day}' AND "date" < TIMESTAMP '${next}' ORDER BY ALL) ` +
      `TO ${quotedString(file)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  if (result.rowsChanged === 0) {
    await rm(file, { force: true });
    throw new Error(`no flights on ${day} in ${sourceParquet} (flights-3m covers 2001-01-01 to 2001-06-30)`);
  }
  return result.rowsChanged;
}
