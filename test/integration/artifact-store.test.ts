import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createS3Client } from '../../lib/clients/s3-client';
import { ArtifactChecksumError, ArtifactNotFoundError, ArtifactTooLargeError } from '../../lib/store/artifact-errors';
import { ArtifactStore } from '../../lib/store/artifact-store';

describe('ArtifactStore on a real S3 server (versitygw)', () => {
  const services = inject('services');
  let client: S3Client;
  let store: ArtifactStore;
  let dir: string;
  const namespace = `store-test/${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    client = createS3Client(services.s3);
    // A low threshold makes a 12 MiB file take the multipart path (5 MiB parts, the S3 minimum).
    store = new ArtifactStore({ client, bucket: services.s3.bucket, multipartThreshold: 8 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
    dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-store-'));
  });

  afterAll(async () => {
    client?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('keys content by its sha256, and writing the same bytes twice gives the same reference', async () => {
    const bytes = randomBytes(1000);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const first = await store.putBytes(namespace, bytes, '.bin');
    const second = await store.putBytes(namespace, bytes, '.bin');
    expect(first).toEqual({ key: `${namespace}/${sha}.bin`, sha256: sha, size: 1000 });
    expect(second).toEqual(first);
    expect(Buffer.from(await store.getBytes(first)).equals(bytes)).toBe(true);
  });

  it('stores a content type, writing an object stored without it again (same key, same bytes), and refuses what is larger than a reader takes', async () => {
    const bytes = Buffer.from(`<!DOCTYPE html><p>${randomBytes(8).toString('hex')}</p>`);
    const untyped = await store.putBytes(namespace, bytes, '.html');
    const contentType = async () => (await client.send(new HeadObjectCommand({ Bucket: services.s3.bucket, Key: untyped.key }))).ContentType;
    expect(await contentType()).not.toBe('text/html; charset=utf-8');
    const typed = await store.putBytes(namespace, bytes, '.html', { contentType: 'text/html; charset=utf-8' });
    expect(typed).toEqual(untyped);
    expect(await contentType()).toBe('text/html; charset=utf-8');
    // A presigned link can ask S3 for the type, for objects stored before they had one.
    const response = await fetch(await store.presignedUrl(untyped.key, 60, { contentType: 'text/html; charset=utf-8' }));
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    await expect(store.getBytes(typed, { maxBytes: bytes.length - 1 })).rejects.toBeInstanceOf(ArtifactTooLargeError);
    expect(Buffer.from(await store.getBytes(typed, { maxBytes: bytes.length })).equals(bytes)).toBe(true);
  });

  it('uploads a large file in parts and streams it back verified', async () => {
    const file = path.join(dir, 'large.bin');
    const bytes = randomBytes(12 * 1024 * 1024);
    await writeFile(file, bytes);
    const ref = await store.putFile(namespace, file, '.bin');
    expect(ref.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(ref.size).toBe(bytes.length);
    const copy = path.join(dir, 'copy.bin');
    await store.downloadToFile(ref, copy);
    expect((await readFile(copy)).equals(bytes)).toBe(true);
  });

  it('names the missing object', async () => {
    const missing = { key: `${namespace}/${'0'.repeat(64)}.onnx`, sha256: '0'.repeat(64) };
    const err = await store.getBytes(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactNotFoundError);
    expect((err as ArtifactNotFoundError).type).toBe('ArtifactNotFound');
    expect((err as Error).message).toContain(missing.key);
  });

  it('detects an object whose bytes were changed after they were recorded, and leaves no file behind', async () => {
    const ref = await store.putBytes(namespace, Buffer.from('original model bytes'), '.onnx');
    await client.send(new PutObjectCommand({ Bucket: services.s3.bucket, Key: ref.key, Body: Buffer.from('tampered model bytes') }));

    const err = await store.getBytes(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactChecksumError);
    expect((err as ArtifactChecksumError).type).toBe('ArtifactChecksumMismatch');
    expect((err as Error).message).toContain(ref.sha256);

    const target = path.join(dir, 'tampered.onnx');
    await expect(store.downloadToFile(ref, target)).rejects.toBeInstanceOf(ArtifactChecksumError);
    await expect(readFile(target)).rejects.toMatchObject({ code: 'ENOENT' });

    // Writing the original again repairs the object: the store does not trust an object it did not write.
    await store.putBytes(namespace, Buffer.from('original model bytes'), '.onnx');
    expect(Buffer.from(await store.getBytes(ref)).toString()).toBe('original model bytes');
  });
});
