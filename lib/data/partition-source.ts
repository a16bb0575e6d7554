import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { SourceSpec } from '../spec/model-spec';
import { sha256OfFile } from './file-hash';
import { parsePartitionDay } from './partition-day';
import { FORMAT_EXTENSIONS } from './source-relation';

/** S3 access for sources of kind 's3'; `bucket` is the default, overridden by `source.bucket`. */
export interface S3SourceAccess {
  readonly client: S3Client;
  readonly bucket: string;
}

/** One data file of a partition, not yet read. */
export interface PartitionFile {
  /** File name inside the partition folder; partition content is ordered by it. */
  readonly name: string;
  readonly size: number;
  /** Absolute path, or `s3://bucket/key`. */
  readonly location: string;
  /**
   * Makes the file readable on local disk and hashes its bytes: a local file stays
   * where it is, an S3 object is downloaded to `<tempDir>/<column>=<day>/<name>`.
   */
  materialize(tempDir: string): Promise<{ path: string; sha256: string }>;
}

/** A partition ready for DuckDB. */
export interface FetchedPartition {
  readonly day: string;
  /** The partition folder: a directory path or `s3://bucket/prefix/<column>=<day>/`. */
  readonly location: string;
  /** Local paths, in file-name order. */
  readonly files: string[];
  /** Each file's name in the partition folder (same order as `files`): what messages call it. */
  readonly names: string[];
  /** sha256 over the name-sorted (file name, sha256 of its bytes) list: same content, same hash. */
  readonly sourceHash: string;
  readonly bytes: number;
}

/** The partition folder does not exist or holds no file of the source's format. Permanent: retrying will not help. */
export class PartitionNotFoundError extends Error {
  readonly type = 'PartitionNotFound' as const;

  constructor(
    readonly location: string,
    readonly day: string,
    detail: string,
  ) {
    super(`partition for ${day} not found at ${location}: ${detail}`);
    this.name = 'PartitionNotFoundError';
  }
}

/** Folder name of a partition, e.g. `date=2001-01-08`. */
export function partitionFolderName(partitionColumn: string, day: string): string {
  return `${partitionColumn}=${parsePartitionDay(day)}`;
}

/** Where a partition lives: its directory, or `s3://bucket/<prefix>/<column>=<day>/`. */
export function partitionLocation(source: SourceSpec, partitionColumn: string, day: string, s3?: S3SourceAccess): string {
  const folder = partitionFolderName(partitionColumn, day);
  if (source.kind === 'local') return path.join(path.resolve(source.path), folder);
  return `s3://${s3Bucket(source, s3)}/${s3KeyPrefix(source.prefix)}${folder}/`;
}

/**
 * Lists a partition's data files (those ending in the format's extension), sorted by
 * name. Throws PartitionNotFoundError when there are none.
 */
export async function listPartitionFiles(
  source: SourceSpec,
  partitionColumn: string,
  day: string,
  s3?: S3SourceAccess,
): Promise<PartitionFile[]> {
  const files = source.kind === 'local' ? await listLocal(source, partitionColumn, day) : await listS3(source, partitionColumn, day, s3);
  if (files.length === 0) {
    throw new PartitionNotFoundError(
      partitionLocation(source, partitionColumn, day, s3),
      day,
      `no ${FORMAT_EXTENSIONS[source.format]} files in the partition folder`,
    );
  }
  return files.sort((a, b) => compareNames(a.name, b.name));
}

/**
 * Lists and materializes a partition (S3 objects are downloaded under `tempDir`;
 * local files are read in place) and computes its content hash.
 */
export async function fetchPartition(
  source: SourceSpec,
  partitionColumn: string,
  day: string,
  tempDir: string,
  s3?: S3SourceAccess,
): Promise<FetchedPartition> {
  const files = await listPartitionFiles(source, partitionColumn, day, s3);
  const materialized = await mapBounded(files, 4, (file) => file.materialize(tempDir));
  return {
    day,
    location: partitionLocation(source, partitionColumn, day, s3),
    files: materialized.map((m) => m.path),
    names: files.map((file) => file.name),
    sourceHash: partitionSourceHash(files.map((file, i) => ({ name: file.name, sha256: materialized[i]!.sha256 }))),
    bytes: files.reduce((sum, file) => sum + file.size, 0),
  };
}

/** sha256 (hex) over the name-sorted list of `name\tsha256\n` lines. */
export function partitionSourceHash(files: ReadonlyArray<{ name: string; sha256: string }>): string {
  const lines = [...files].sort((a, b) => compareNames(a.name, b.name)).map((f) => `${f.name}\t${f.sha256}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

async function listLocal(source: Extract<SourceSpec, { kind: 'local' }>, partitionColumn: string, day: string): Promise<PartitionFile[]> {
  const folder = partitionLocation(source, partitionColumn, day);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PartitionNotFoundError(folder, day, 'the folder does not exist');
    throw err;
  }
  const extension = FORMAT_EXTENSIONS[source.format];
  const files: PartitionFile[] = [];
  for (const name of names.filter((n) => n.endsWith(extension))) {
    const location = path.join(folder, name);
    const info = await stat(location);
    if (!info.isFile()) continue;
    files.push({ name, size: info.size, location, materialize: async () => ({ path: location, sha256: await sha256OfFile(location) }) });
  }
  return files;
}

async function listS3(
  source: Extract<SourceSpec, { kind: 's3' }>,
  partitionColumn: string,
  day: string,
  s3: S3SourceAccess | undefined,
): Promise<PartitionFile[]> {
  if (!s3) throw new Error(`source s3://${source.bucket ?? '?'}/${source.prefix} needs an S3 client`);
  const bucket = s3Bucket(source, s3);
  const folder = `${s3KeyPrefix(source.prefix)}${partitionFolderName(partitionColumn, day)}/`;
  const extension = FORMAT_EXTENSIONS[source.format];
  const files: PartitionFile[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folder, ContinuationToken: continuationToken }));
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (!key) continue;
      const name = key.slice(folder.length);
      // Only files directly in the folder belong to the partition.
      if (name.includes('/') || !name.endsWith(extension)) continue;
      files.push({
        name,
        size: object.Size ?? 0,
        location: `s3://${bucket}/${key}`,
        materialize: (tempDir) => downloadS3Object(s3.client, bucket, key, path.join(tempDir, partitionFolderName(partitionColumn, day), name)),
      });
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
  return files;
}

function s3Bucket(source: Extract<SourceSpec, { kind: 's3' }>, s3: S3SourceAccess | undefined): string {
  const bucket = source.bucket ?? s3?.bucket;
  if (!bucket) throw new Error(`source prefix '${source.prefix}' has no bucket: set source.bucket or configure a default bucket`);
  return bucket;
}

/** Normalizes a source prefix to a key prefix: `sources/x` and `/sources/x/` both become `sources/x/`. */
export function s3KeyPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

async function downloadS3Object(client: S3Client, bucket: string, key: string, file: string): Promise<{ path: string; sha256: string }> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(response.Body instanceof Readable)) throw new Error(`s3://${bucket}/${key}: expected a stream body`);
  await mkdir(path.dirname(file), { recursive: true });
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(response.Body, hashing, createWriteStream(file));
  return { path: file, sha256: hash.digest('hex') };
}

/** Byte-wise (code unit) order, independent of locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
