/** What each S3-compatible server the project can start (versitygw, embedded s3rver) takes and gives. */
import type { S3Connection } from '../clients/s3-client';

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
  /** Where the versitygw binary is built if missing (RetrainEnvironment.cacheDir). */
  cacheDir: string;
  /** An explicit versitygw binary (VERSITYGW_BIN). */
  binaryPath?: string;
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
