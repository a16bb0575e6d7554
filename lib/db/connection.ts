import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

// Return `date` columns as 'YYYY-MM-DD' strings: a calendar day must not shift with the process's time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);
// bigint ids and counts stay strings (exact); callers convert counts with Number() where they are small.

export interface DatabaseOptions {
  /** Connections in the pool; default 10. */
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator can tell the worker's connections from the gateway's. */
  applicationName?: string;
  /**
   * Called when an idle pooled connection breaks (Postgres restarted, the connection was
   * terminated). The pool drops it and the next query opens a new one; default: a line on stderr.
   */
  onConnectionError?: (err: Error) => void;
}

/**
 * Opens a kysely instance over a pg pool for the given postgres:// URL. A broken connection,
 * idle or checked out, never takes the process down: without 'error' listeners, pg's Pool and
 * Client would re-emit it as an unhandled 'error' event.
 */
export function createDatabase(url: string, options: DatabaseOptions | number = {}): Kysely<Database> {
  const { poolSize = 10, applicationName = 'retrain', onConnectionError } = typeof options === 'number' ? { poolSize: options } : options;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: applicationName,
    // A dead server is noticed in seconds rather than by the OS's TCP timeouts.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  const report = (err: Error) => {
    if (onConnectionError) onConnectionError(err);
    else process.stderr.write(`[retrain] ${applicationName}: a database connection was lost (${err.message}); the next query reconnects\n`);
  };
  pool.on('error', report);
  // The pool listens to idle connections only. A connection checked out but between queries
  // (a transaction awaiting other work) that Postgres terminates (a shutdown sends FATAL 57P01 to
  // every backend) would emit an unhandled 'error' and kill the process; its next query fails
  // instead, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', report));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
