import { z } from 'zod';
import { startPostgres } from './postgres-server';

const DatabaseUrl = z
  .string()
  .trim()
  .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL');

/** `DATABASE_URL`, validated and otherwise used as is; undefined when unset or empty. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw.trim() === '') return undefined;
  const parsed = DatabaseUrl.safeParse(raw);
  if (!parsed.success) throw new Error(`DATABASE_URL ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
  return parsed.data;
}

export interface ProvideDatabaseOptions {
  /** For the local server: the cluster lives in `<dataDir>`, see startPostgres. */
  dataDir: string;
  logDir?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
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
  const fromEnv = databaseUrlFromEnv(options.env);
  if (fromEnv) {
    options.log?.('using the database at DATABASE_URL');
    return { url: fromEnv, source: 'DATABASE_URL', unexpectedExit: new Promise<never>(() => undefined), stop: async () => {} };
  }
  const server = await startPostgres({
    dataDir: options.dataDir,
    logDir: options.logDir,
    port: options.port,
    env: options.env,
    log: options.log,
  });
  return { url: server.url, source: 'local', unexpectedExit: server.unexpectedExit, stop: server.stop };
}
