import { ensureBucket } from '../clients/ensure-bucket';
import { createS3Client } from '../clients/s3-client';
import type { RetrainEnvironment, S3Config } from '../config/environment';
import { startS3Server } from './s3-server';

export interface ProvideS3Options {
  /** `s3` (S3_ENDPOINT) when set, else `localS3` says what to start. */
  environment: Pick<RetrainEnvironment, 's3' | 'localS3' | 'cacheDir' | 'binaries'>;
  dataDir: string;
  logDir?: string;
  port?: number;
  log?: (msg: string) => void;
}

export interface ProvidedS3 {
  config: S3Config;
  source: 'S3_ENDPOINT' | 'local';
  /** Rejects if a local server process dies before stop(). */
  unexpectedExit: Promise<never>;
  /** Stops the local server; does nothing for `S3_ENDPOINT`. */
  stop(): Promise<void>;
}

/** The artifact store's S3: the server at `S3_ENDPOINT`, or one started in `dataDir`; the bucket exists afterwards. */
export async function provideS3(options: ProvideS3Options): Promise<ProvidedS3> {
  const { s3: external, localS3 } = options.environment;
  let provided: ProvidedS3;
  if (external) {
    options.log?.(`using the S3 server at S3_ENDPOINT (${external.endpoint})`);
    provided = { config: { ...external }, source: 'S3_ENDPOINT', unexpectedExit: new Promise<never>(() => undefined), stop: async () => {} };
  } else {
    const { kind, bucket, ...credentials } = localS3;
    const server = await startS3Server({
      kind,
      dataDir: options.dataDir,
      logDir: options.logDir,
      port: options.port,
      cacheDir: options.environment.cacheDir,
      binaryPath: options.environment.binaries.versitygw ?? undefined,
      log: options.log,
      ...credentials,
    });
    const { unexpectedExit, stop, ...connection } = server;
    provided = { config: { ...connection, bucket }, source: 'local', unexpectedExit, stop };
  }
  const client = createS3Client(provided.config);
  try {
    await ensureBucket(client, provided.config.bucket);
  } catch (err) {
    await provided.stop();
    throw err;
  } finally {
    client.destroy();
  }
  return provided;
}
