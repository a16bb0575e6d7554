import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket } from '../../lib/clients/ensure-bucket';
import { createS3Client } from '../../lib/clients/s3-client';
import { startS3Server } from '../../lib/dev-stack/s3-server';
import { RETRAIN_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions';
import { startStack, type Stack } from '../../lib/dev-stack/stack';
import { localOnlyEnvironment } from '../../lib/config/environment';

const log = (msg: string): void => void process.stderr.write(`[services.test] ${msg}\n`);

describe('service stack (Temporal dev server, Postgres, versitygw)', () => {
  let dataDir: string;
  let stack: Stack;
  let s3: S3Client;

  const start = async (): Promise<Stack> => {
    // The stack must start its own services here, whatever the shell exported.
    const environment = localOnlyEnvironment(dataDir, 'versitygw');
    const started = await startStack({ environment, searchAttributes: RETRAIN_SEARCH_ATTRIBUTE_KEYS, stopOnSignal: false, log });
    log(`ready: temporal ${started.startupMs.temporal} ms, postgres ${started.startupMs.postgres} ms, s3 ${started.startupMs.s3} ms`);
    return started;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrain-services-'));
    // mkdtemp makes the directory private (0700); Postgres runs as an unprivileged user when we are root.
    await chmod(dataDir, 0o711);
    stack = await start();
    s3 = createS3Client(stack.s3);
  }, 300_000);

  afterAll(async () => {
    s3?.destroy();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('Temporal serves the namespace with the Retrain search attributes registered', async () => {
    const connection = await Connection.connect({ address: stack.temporal.address });
    try {
      const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: stack.temporal.namespace });
      expect(namespaceInfo?.name).toBe(stack.temporal.namespace);
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: stack.temporal.namespace });
      expect(RETRAIN_SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).sort()).toEqual(['RetrainAwaitingApproval', 'RetrainDataWindow', 'RetrainModel', 'RetrainStage']);
      for (const { name, type } of RETRAIN_SEARCH_ATTRIBUTE_KEYS) {
        expect(customAttributes[name], name).toBe(encodeSearchAttributeIndexedValueType(type));
      }
    } finally {
      await connection.close();
    }
  });

  it('the Temporal Web UI answers HTTP', async () => {
    const response = await fetch(stack.temporal.uiUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<html');
  });

  it('Postgres runs queries on the retrain database', async () => {
    const result = await withPg(stack.databaseUrl, (client) => client.query<{ one: number; db: string }>('select 1 as one, current_database() as db'));
    expect(result.rows).toEqual([{ one: 1, db: 'retrain' }]);
  });

  it('S3 round-trips an object and verifies its SHA-256 checksum', async () => {
    const body = Buffer.from(`model bytes ${randomBytes(8).toString('hex')}`);
    const sha256 = createHash('sha256').update(body).digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: stack.s3.bucket, Key: 'roundtrip/a.bin', Body: body, ChecksumAlgorithm: 'SHA256' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: 'roundtrip/a.bin', ChecksumMode: 'ENABLED' }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
    expect(got.ChecksumSHA256).toBe(sha256);

    // A real server rejects a body that does not match the checksum sent with it.
    const wrong = createHash('sha256').update('something else').digest('base64');
    await expect(
      s3.send(new PutObjectCommand({ Bucket: stack.s3.bucket, Key: 'roundtrip/bad.bin', Body: body, ChecksumSHA256: wrong })),
    ).rejects.toMatchObject({ name: 'BadDigest' });
  });

  it('S3 accepts a streamed multipart upload larger than 5 MB', async () => {
    const body = randomBytes(12 * 1024 * 1024 + 123);
    // Uneven chunks of unknown total length: lib-storage has to split them into parts itself.
    const chunks = [body.subarray(0, 3_000_001), body.subarray(3_000_001, 9_500_000), body.subarray(9_500_000)];
    const upload = new Upload({
      client: s3,
      params: { Bucket: stack.s3.bucket, Key: 'multipart/big.bin', Body: Readable.from(chunks) },
      partSize: 5 * 1024 * 1024,
    });
    const result = await upload.done();
    expect(result.ETag).toMatch(/-3"$/); // three parts
    const head = await s3.send(new HeadObjectCommand({ Bucket: stack.s3.bucket, Key: 'multipart/big.bin' }));
    expect(head.ContentLength).toBe(body.length);
    const got = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: 'multipart/big.bin' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(sha256Hex(bytes)).toBe(sha256Hex(body));
  });

  it('stop() leaves nothing listening and no process running on the data directory, and state survives a restart', async () => {
    // State to find again after the restart.
    await withPg(stack.databaseUrl, (client) => client.query(`create table survivor (note text); insert into survivor values ('kept')`));
    await s3.send(new PutObjectCommand({ Bucket: stack.s3.bucket, Key: 'survivor.txt', Body: 'kept' }));
    const workflowId = `survivor-${randomBytes(4).toString('hex')}`;
    // No worker polls this queue: the run just stays open, stored in the dev server's SQLite file.
    await withTemporal(stack, (client) => client.workflow.start('survivorWorkflow', { taskQueue: 'nobody-polls', workflowId }));

    const ports = portsOf(stack);
    await stack.stop();
    s3.destroy();
    for (const port of ports) expect(await isListening(port), `port ${port}`).toBe(false);
    expect(processesMentioning(dataDir)).toEqual([]);

    stack = await start();
    s3 = createS3Client(stack.s3);
    const rows = await withPg(stack.databaseUrl, (client) => client.query<{ note: string }>('select note from survivor'));
    expect(rows.rows).toEqual([{ note: 'kept' }]);
    const object = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: 'survivor.txt' }));
    expect(await object.Body!.transformToString()).toBe('kept');
    const description = await withTemporal(stack, (client) => client.workflow.getHandle(workflowId).describe());
    expect(description.status.name).toBe('RUNNING');
    await withTemporal(stack, (client) => client.workflow.getHandle(workflowId).terminate('test done'));

    const portsAfterRestart = portsOf(stack);
    await stack.stop();
    for (const port of portsAfterRestart) expect(await isListening(port), `port ${port}`).toBe(false);
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});

// The zero-install default used by `npm run demo`: s3rver inside the test process.
describe('embedded S3 server', () => {
  it('round-trips objects and multipart uploads with a client from createS3Client', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrain-embedded-s3-'));
    const server = await startS3Server({ kind: 'embedded', dataDir, cacheDir: dataDir, accessKeyId: 'test', secretAccessKey: 'test-secret' });
    const client = createS3Client(server);
    try {
      await ensureBucket(client, 'artifacts');
      await ensureBucket(client, 'artifacts'); // idempotent
      await client.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'small.txt', Body: 'hello' }));
      const small = await client.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'small.txt' }));
      expect(await small.Body!.transformToString()).toBe('hello');

      const body = randomBytes(6 * 1024 * 1024);
      await new Upload({
        client,
        params: { Bucket: 'artifacts', Key: 'big.bin', Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]) },
        partSize: 5 * 1024 * 1024,
      }).done();
      const big = await client.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'big.bin' }));
      expect(sha256Hex(Buffer.from(await big.Body!.transformToByteArray()))).toBe(sha256Hex(body));
    } finally {
      client.destroy();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
    expect(await isListening(Number(new URL(server.endpoint).port))).toBe(false);
  });
});

async function withPg<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function withTemporal<T>(stack: Stack, use: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    return await use(new Client({ connection, namespace: stack.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function portsOf(stack: Stack): number[] {
  return [
    Number(stack.temporal.address.split(':').pop()),
    Number(new URL(stack.temporal.uiUrl).port),
    Number(new URL(stack.databaseUrl).port),
    Number(new URL(stack.s3.endpoint).port),
  ];
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Command lines of live processes that mention `dir`: every service is started with a path inside it. */
function processesMentioning(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (commandLine.includes(dir)) found.push(`${entry}: ${commandLine}`);
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}
