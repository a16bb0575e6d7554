import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSpec } from '../../lib/spec/model-spec';
import {
  fetchPartition,
  listPartitionFiles,
  partitionLocation,
  partitionSourceHash,
  PartitionNotFoundError,
} from '../../lib/data/partition-source';

let root: string;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Writes `files` (name → content) into `<base>/date=<day>/`. */
async function writePartition(base: string, day: string, files: Record<string, string>): Promise<void> {
  const folder = path.join(base, `date=${day}`);
  await mkdir(folder, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(folder, name), content);
}

const local = (dir: string, format: SourceSpec['format'] = 'parquet'): SourceSpec => ({ kind: 'local', path: dir, format });

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'retrain-source-test-'));
  // Content does not need to be valid Parquet here: listing and hashing never parse it.
  await writePartition(path.join(root, 'a'), '2001-01-08', { 'part-1.parquet': 'one', 'part-0.parquet': 'zero', 'notes.txt': 'x', 'part-2.csv': 'y' });
  await mkdir(path.join(root, 'a', 'date=2001-01-08', 'nested.parquet'));
  await writePartition(path.join(root, 'a'), '2001-01-09', { 'README.md': 'no data' });
  // The same content under another root.
  await writePartition(path.join(root, 'b'), '2001-01-08', { 'part-0.parquet': 'zero', 'part-1.parquet': 'one' });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('listPartitionFiles', () => {
  it('lists the files of the source format directly in the partition folder, sorted by name', async () => {
    const files = await listPartitionFiles(local(path.join(root, 'a')), 'date', '2001-01-08');
    expect(files.map((f) => f.name)).toEqual(['part-0.parquet', 'part-1.parquet']);
    expect(files.map((f) => f.size)).toEqual([4, 3]);
    expect(files[0]!.location).toBe(path.join(root, 'a', 'date=2001-01-08', 'part-0.parquet'));

    const csv = await listPartitionFiles(local(path.join(root, 'a'), 'csv'), 'date', '2001-01-08');
    expect(csv.map((f) => f.name)).toEqual(['part-2.csv']);
  });

  it('throws PartitionNotFoundError naming the location and day when the folder is missing or has no data files', async () => {
    const missing = listPartitionFiles(local(path.join(root, 'a')), 'date', '2001-01-10');
    await expect(missing).rejects.toBeInstanceOf(PartitionNotFoundError);
    await expect(missing).rejects.toMatchObject({
      type: 'PartitionNotFound',
      day: '2001-01-10',
      location: path.join(root, 'a', 'date=2001-01-10'),
      message: `partition for 2001-01-10 not found at ${path.join(root, 'a', 'date=2001-01-10')}: the folder does not exist`,
    });
    await expect(listPartitionFiles(local(path.join(root, 'a')), 'date', '2001-01-09')).rejects.toThrow(
      `partition for 2001-01-09 not found at ${path.join(root, 'a', 'date=2001-01-09')}: no .parquet files in the partition folder`,
    );
  });

  it('rejects an invalid day before touching the source', async () => {
    await expect(listPartitionFiles(local(root), 'date', '2001-02-30')).rejects.toThrow('is not a calendar day');
  });
});

describe('partitionLocation', () => {
  it('names the folder of a local or S3 partition; the source bucket overrides the default', () => {
    expect(partitionLocation(local('/data/flights'), 'date', '2001-01-08')).toBe('/data/flights/date=2001-01-08');
    const s3: SourceSpec = { kind: 's3', prefix: '/sources/flight-delay', format: 'parquet' };
    expect(partitionLocation(s3, 'date', '2001-01-08', { client: undefined as never, bucket: 'retrain' })).toBe(
      's3://retrain/sources/flight-delay/date=2001-01-08/',
    );
    expect(partitionLocation({ ...s3, bucket: 'raw' }, 'date', '2001-01-08', { client: undefined as never, bucket: 'retrain' })).toBe(
      's3://raw/sources/flight-delay/date=2001-01-08/',
    );
  });
});

describe('fetchPartition', () => {
  it('returns local files in place, in name order, with a hash over names and content', async () => {
    const fetched = await fetchPartition(local(path.join(root, 'a')), 'date', '2001-01-08', path.join(root, 'unused'));
    expect(fetched.files).toEqual([
      path.join(root, 'a', 'date=2001-01-08', 'part-0.parquet'),
      path.join(root, 'a', 'date=2001-01-08', 'part-1.parquet'),
    ]);
    expect(fetched.names).toEqual(['part-0.parquet', 'part-1.parquet']);
    expect(fetched.bytes).toBe(7);
    expect(fetched.location).toBe(path.join(root, 'a', 'date=2001-01-08'));
    expect(fetched.sourceHash).toBe(sha256(`part-0.parquet\t${sha256('zero')}\npart-1.parquet\t${sha256('one')}\n`));
  });

  it('gives the same hash for the same content anywhere, and a new one when a byte or a name changes', async () => {
    const a = await fetchPartition(local(path.join(root, 'a')), 'date', '2001-01-08', root);
    const b = await fetchPartition(local(path.join(root, 'b')), 'date', '2001-01-08', root);
    expect(b.sourceHash).toBe(a.sourceHash);

    await writePartition(path.join(root, 'c'), '2001-01-08', { 'part-0.parquet': 'zerO', 'part-1.parquet': 'one' });
    await writePartition(path.join(root, 'd'), '2001-01-08', { 'part-9.parquet': 'zero', 'part-1.parquet': 'one' });
    const c = await fetchPartition(local(path.join(root, 'c')), 'date', '2001-01-08', root);
    const d = await fetchPartition(local(path.join(root, 'd')), 'date', '2001-01-08', root);
    expect(new Set([a.sourceHash, c.sourceHash, d.sourceHash]).size).toBe(3);
  });

  it('hashes independently of the order files are listed in', () => {
    const files = [
      { name: 'b.parquet', sha256: sha256('b') },
      { name: 'a.parquet', sha256: sha256('a') },
    ];
    expect(partitionSourceHash(files)).toBe(partitionSourceHash([...files].reverse()));
  });
});
