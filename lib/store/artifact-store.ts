import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, NotFound, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ArtifactChecksumError, ArtifactNotFoundError, ArtifactTooLargeError } from './artifact-errors';

/** Where an artifact lives and what its bytes hash to; the pair is what Postgres records. */
export interface ArtifactRef {
  key: string;
  sha256: string;
  size: number;
}

export interface ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** Objects at least this large go up as multipart uploads. */
  multipartThreshold?: number;
  partSize?: number;
}

const MiB = 1024 * 1024;

/**
 * Content-addressed artifact storage over any S3-compatible server.
 * Keys embed the sha256 of the content, so a write is idempotent and an
 * object never changes once written; every read verifies the hash.
 */
export class ArtifactStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(options: ArtifactStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.multipartThreshold = options.multipartThreshold ?? 16 * MiB;
    this.partSize = options.partSize ?? 8 * MiB;
  }

  /** The key of content with this hash: `<namespace>/<sha256><extension>`. */
  static keyFor(namespace: string, sha256: string, extension: string): string {
    return `${namespace.replace(/\/+$/, '')}/${sha256}${extension}`;
  }

  /** Uploads a local file unless an object with the same content key already exists. */
  async putFile(namespace: string, file: string, extension: string): Promise<ArtifactRef> {
    const [sha256, { size }] = await Promise.all([sha256OfFile(file), stat(file)]);
    const key = ArtifactStore.keyFor(namespace, sha256, extension);
    if (await this.holds(key, sha256, size)) return { key, sha256, size };
    if (size >= this.multipartThreshold) {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: createReadStream(file), Metadata: { sha256 } },
        partSize: this.partSize,
        queueSize: 2,
      });
      await upload.done();
    } else {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(file), ContentLength: size, Metadata: { sha256 } }),
      );
    }
    return { key, sha256, size };
  }

  /**
   * Uploads bytes unless an object with the same content key already exists. With a
   * `contentType` (e.g. `text/html; charset=utf-8` for reports, so a link opens them instead of
   * downloading them), an existing object stored with another type is written again: same key,
   * same bytes, now with the type.
   */
  async putBytes(namespace: string, bytes: Uint8Array, extension: string, options: { contentType?: string } = {}): Promise<ArtifactRef> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = ArtifactStore.keyFor(namespace, sha256, extension);
    if (!(await this.holds(key, sha256, bytes.byteLength, options.contentType))) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, Metadata: { sha256 }, ContentType: options.contentType }));
    }
    return { key, sha256, size: bytes.byteLength };
  }

  /**
   * Reads a whole artifact into memory and checks its hash. With `maxBytes`, an object larger
   * than that is refused (ArtifactTooLargeError) before its body is read.
   */
  async getBytes(ref: Pick<ArtifactRef, 'key' | 'sha256'>, options: { maxBytes?: number } = {}): Promise<Uint8Array> {
    const { body, size } = await this.openObject(ref.key);
    if (options.maxBytes !== undefined && size !== undefined && size > options.maxBytes) {
      await body.transformToWebStream().cancel().catch(() => undefined);
      throw new ArtifactTooLargeError(ref.key, size, options.maxBytes);
    }
    const bytes = await body.transformToByteArray();
    if (options.maxBytes !== undefined && bytes.byteLength > options.maxBytes) throw new ArtifactTooLargeError(ref.key, bytes.byteLength, options.maxBytes);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== ref.sha256) throw new ArtifactChecksumError(ref.key, ref.sha256, actual);
    return bytes;
  }

  /**
   * Streams an artifact to a local file, hashing on the way. The file appears
   * under its final name only once the hash matched: never half-written.
   */
  async downloadToFile(ref: Pick<ArtifactRef, 'key' | 'sha256'>, file: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.partial-${process.pid}`;
    const body = await this.openBody(ref.key);
    const hash = createHash('sha256');
    const source = Readable.from(body as AsyncIterable<Uint8Array>);
    source.on('data', (chunk: Buffer) => hash.update(chunk));
    try {
      await pipeline(source, createWriteStream(partial));
      const actual = hash.digest('hex');
      if (actual !== ref.sha256) throw new ArtifactChecksumError(ref.key, ref.sha256, actual);
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
  }

  /**
   * A time-limited GET link to an artifact (S3's limit: 7 days), for people to
   * open reports; whoever holds it can read the object until it expires. With
   * `contentType`, the link asks S3 to answer with that type (`response-content-type`), so
   * objects stored before they had one (reports written as application/octet-stream) open in
   * a browser too.
   */
  async presignedUrl(key: string, expiresInSeconds = 7 * 24 * 3600, options: { contentType?: string } = {}): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentType: options.contentType }), { expiresIn: expiresInSeconds });
  }

  /**
   * Whether the object at key was written by this store with this content: same
   * size and the sha256 recorded in its metadata (and the content type, when one is asked
   * for). Anything else is (re)written.
   */
  private async holds(key: string, sha256: string, size: number, contentType?: string): Promise<boolean> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength === size && head.Metadata?.sha256 === sha256 && (contentType === undefined || head.ContentType === contentType);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async openBody(key: string) {
    return (await this.openObject(key)).body;
  }

  private async openObject(key: string) {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!response.Body) throw new ArtifactNotFoundError(key, this.bucket);
      return { body: response.Body, size: response.ContentLength };
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(key, this.bucket);
      throw err;
    }
  }
}

function isNotFound(err: unknown): boolean {
  if (err instanceof NoSuchKey || err instanceof NotFound) return true;
  const meta = (err as { $metadata?: { httpStatusCode?: number }; name?: string }) ?? {};
  return meta.$metadata?.httpStatusCode === 404 || meta.name === 'NoSuchKey' || meta.name === 'NotFound';
}

/** Streams a file through sha256. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
