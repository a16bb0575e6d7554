import { mkdirSync } from 'node:fs';
import path from 'node:path';
import S3rver from '@20minutes/s3rver';
import s3rverAccounts from '@20minutes/s3rver/lib/models/account';
import type { S3Server } from './s3-server-contract';

export interface EmbeddedS3ServerOptions {
  /** Buckets are directories below `<dataDir>/buckets`. */
  dataDir: string;
  host?: string;
  /** A free one when not given. */
  port?: number;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  log?: (msg: string) => void;
}

/**
 * The zero-install default: s3rver inside this Node process. It accepts the given access key
 * but does not verify request signatures, because it computes the canonical path of bucket
 * requests differently from current AWS SDKs; real signature checks run against versitygw in tests.
 */
export async function startEmbeddedS3Server(options: EmbeddedS3ServerOptions): Promise<S3Server> {
  const { host = '127.0.0.1', region = 'us-east-1', accessKeyId, secretAccessKey, log } = options;
  const directory = path.join(path.resolve(options.dataDir), 'buckets');
  mkdirSync(directory, { recursive: true });
  s3rverAccounts.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

  const started = Date.now();
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    directory,
    silent: true,
    vhostBuckets: false,
    allowMismatchedSignatures: true,
  });
  const { port } = await server.run();
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log?.(`embedded S3 (s3rver) ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${endpoint}, data in ${directory}`);

  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    // s3rver rejects the aws-chunked uploads with trailing checksums that the SDK sends by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    unexpectedExit: new Promise<never>(() => undefined),
    stop: async () => {
      const closing = server.close();
      // Keep-alive connections of live clients would hold close() open.
      server.httpServer?.closeAllConnections();
      await closing;
    },
  };
}
