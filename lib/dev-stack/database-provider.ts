import type { RetrainEnvironment } from '../config/environment';
import { startPostgres } from './postgres-server';

export interface ProvideDatabaseOptions {
  /** `databaseUrl` (DATABASE_URL) when set; else a local Postgres, found with `binaries.postgresBinDir`. */
  environment: Pick<RetrainEnvironment, 'databaseUrl' | 'binaries'>;
  /** For the local server: the cluster lives in `<dataDir>`, see startPostgres. */
  dataDir: string;
  logDir?: string;
  port?: number;
  log?: (msg: string) => void;
}

export interface ProvidedDatabase {
  url: string;
  /** Where the URL came from: the environment, or a server started here. */
  source: 'DATABASE_URL' | 'local';
  /** Rejects if the local server dies before stop(); never settles for DATABASE_URL. */
  unexpectedExit: Promise<never>;
  /** Stops the local server; does nothing for DATABASE_URL. */
  stop(): Promise<void>;
}

/** The metadata database: `DATABASE_URL` when set, else a local Postgres started in `dataDir`. */
export async function provideDatabase(options: ProvideDatabaseOptions): Promise<ProvidedDatabase> {
  const { databaseUrl } = options.environment;
  if (databaseUrl) {
    options.log?.('using the database at DATABASE_URL');
    return { url: databaseUrl, source: 'DATABASE_URL', unexpectedExit: new Promise<never>(() => undefined), stop: async () => {} };
  }
  const server = await startPostgres({
    dataDir: options.dataDir,
    logDir: options.logDir,
    port: options.port,
    binDir: options.environment.binaries.postgresBinDir,
    log: options.log,
  });
  return { url: server.url, source: 'local', unexpectedExit: server.unexpectedExit, stop: server.stop };
}
