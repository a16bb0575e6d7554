import { ensureBucket } from '../clients/ensure-bucket';
import { createS3Client } from '../clients/s3-client';
import { s3SettingsFromEnv, type S3Config } from '../clients/s3-settings';
import { startS3Server, type S3ServerKind } from './s3-server';

export interface ProvideS3Options {
  /** Which server to start when `S3_ENDPOINT` is not set. */
  kind: S3ServerKind;
  dataDir: string;
  logDir?: string;
  port?: number;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
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
  const settings = s3SettingsFromEnv(options.env);
  let provided: ProvidedS3;
  if (settings.source === 'S3_ENDPOINT') {
    options.log?.(`using the S3 server at S3_ENDPOINT (${settings.config.endpoint})`);
    provided = { config: settings.config, source: 'S3_ENDPOINT', unexpectedExit: new Promise<never>(() => undefined), stop: async () => {} };
  } else {
    const { bucket, ...credentials } = settings;
    const server = await startS3Server({
      kind: options.kind,
      dataDir: options.dataDir,
      logDir: options.logDir,
      port: options.port,
      cacheDir: options.cacheDir,
      env: options.env,
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
