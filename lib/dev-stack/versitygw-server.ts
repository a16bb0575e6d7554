import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startChildProcess } from './child-process';
import { findFreePort } from './free-port';
import { locateGoBinary, type GoBinarySpec } from './go-binary';
import { createS3Client } from '../clients/s3-client';
import type { S3Server } from './s3-server-contract';
import { waitUntilReady } from './wait-until-ready';

/** versitygw, an S3 gateway over a POSIX directory, pinned to a release that `go install` builds. */
export const VERSITYGW: GoBinarySpec = {
  name: 'versitygw',
  envVar: 'VERSITYGW_BIN',
  goPackage: 'github.com/versity/versitygw/cmd/versitygw',
  version: 'v1.8.0',
};

export interface VersitygwOptions {
  /** Buckets are directories below `<dataDir>/buckets` (the filesystem needs extended attributes). */
  dataDir: string;
  host?: string;
  /** A free one when not given. */
  port?: number;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  /** Where versitygw is built when missing (RetrainEnvironment.cacheDir). */
  cacheDir: string;
  /** An explicit binary (VERSITYGW_BIN). */
  binaryPath?: string;
  logDir?: string;
  startTimeoutMs?: number;
  log?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Path of the versitygw binary: `VERSITYGW_BIN`, `PATH`, the cache dir, Go's bin directories, or a `go install` build. */
export async function locateVersitygw(options: { cacheDir: string; explicitPath?: string; log?: (msg: string) => void; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = options.env ?? process.env;
  const found = await locateGoBinary(VERSITYGW, { cacheDir: options.cacheDir, explicitPath: options.explicitPath, log: options.log, env });
  if (found) return found;
  throw new Error(
    `versitygw not found: set VERSITYGW_BIN, put it on PATH, or install Go so that 'go install ${VERSITYGW.goPackage}@${VERSITYGW.version}' can build it`,
  );
}

/** Runs `versitygw posix` and resolves once it answers an authenticated ListBuckets. */
export async function startVersitygw(options: VersitygwOptions): Promise<S3Server> {
  const { host = '127.0.0.1', region = 'us-east-1', accessKeyId, secretAccessKey, startTimeoutMs = 30_000, log } = options;
  const env = options.env ?? process.env;
  const binary = await locateVersitygw({ cacheDir: options.cacheDir, explicitPath: options.binaryPath, log, env });
  const dataDir = path.resolve(options.dataDir);
  const bucketsDir = path.join(dataDir, 'buckets');
  mkdirSync(bucketsDir, { recursive: true });
  const port = options.port ?? (await findFreePort(host));
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const endpoint = `http://${hostForUrl}:${port}`;

  const started = Date.now();
  const server = await startChildProcess({
    name: 'versitygw',
    command: binary,
    args: ['--port', `${hostForUrl}:${port}`, '--region', region, '--quiet', 'posix', bucketsDir],
    // Credentials through the environment keep them out of `ps` output. Only what versitygw
    // needs is passed: it also reads VGW_* variables, which a user's shell might hold.
    env: { PATH: env.PATH ?? '/usr/bin:/bin', HOME: env.HOME ?? '/', ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    logDir: options.logDir ?? path.join(dataDir, 'logs'),
    pidFile: path.join(dataDir, 'versitygw.pid'),
    stopSignal: 'SIGTERM',
    log,
  });

  const connection = { endpoint, region, accessKeyId, secretAccessKey };
  // One attempt per probe: waitUntilReady does the retrying.
  const client = createS3Client(connection, { maxAttempts: 1 });
  try {
    await waitUntilReady({
      what: `versitygw at ${endpoint}`,
      probe: () => client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(2_000) }),
      timeoutMs: startTimeoutMs,
      abort: server.unexpectedExit,
    });
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    client.destroy();
  }
  log?.(`versitygw ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${endpoint}, data in ${bucketsDir}`);

  return {
    ...connection,
    unexpectedExit: server.unexpectedExit,
    stop: async () => {
      await server.stop();
    },
  };
}
