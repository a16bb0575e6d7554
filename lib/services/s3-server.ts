import { startEmbeddedS3Server } from './embedded-s3-server';
import type { S3Connection } from './s3-client';
import { startVersitygw } from './versitygw-server';

/** 'versitygw': a real S3 server process (tests, CI); 'embedded': in-process s3rver, nothing to install. */
export type S3ServerKind = 'versitygw' | 'embedded';

export interface S3ServerOptions {
  kind: S3ServerKind;
  /** Buckets are directories below `<dataDir>/buckets` and survive restarts. */
  dataDir: string;
  host?: string;
  /** A free one when not given. */
  port?: number;
  /** Credentials the server accepts. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Default "us-east-1". */
  region?: string;
  /** Where the versitygw binary is built if missing; see defaultCacheDir. */
  cacheDir?: string;
  /** versitygw's output goes to `<logDir>/versitygw.log`; defaults to `<dataDir>/logs`. */
  logDir?: string;
  startTimeoutMs?: number;
  log?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** A running S3-compatible server; build clients for it with createS3Client(server). */
export interface S3Server extends S3Connection {
  /** Rejects, with the log tail, if a server process dies before stop(); never settles for 'embedded'. */
  unexpectedExit: Promise<never>;
  stop(): Promise<void>;
}

/** Starts the S3-compatible server of the given kind and resolves once it answers authenticated requests. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  switch (options.kind) {
    case 'versitygw':
      return startVersitygw(options);
    case 'embedded':
      return startEmbeddedS3Server(options);
    default: {
      const unknown: never = options.kind;
      throw new Error(`unknown S3 server kind '${String(unknown)}'; known: versitygw, embedded`);
    }
  }
}
