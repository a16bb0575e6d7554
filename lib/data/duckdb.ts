import { DuckDBConnection, DuckDBInstance, type JS } from '@duckdb/node-api';

/**
 * Process-wide in-memory DuckDB instances. `parallel` uses DuckDB's default thread
 * count (reads, statistics, feature queries); `deterministic` runs on one thread so
 * that files it writes are byte-identical for the same input (snapshots, prepared
 * partitions). Extensions are never downloaded: parquet, json and icu are built in.
 */
export type DuckDBProfile = 'parallel' | 'deterministic';

const instances = new Map<DuckDBProfile, Promise<DuckDBInstance>>();

function instanceFor(profile: DuckDBProfile): Promise<DuckDBInstance> {
  let instance = instances.get(profile);
  if (!instance) {
    // TimeZone cannot be set here (icu loads after the config is applied); withDuckDB sets it per connection.
    const options: Record<string, string> = { autoinstall_known_extensions: 'false' };
    if (profile === 'deterministic') options.threads = '1';
    instance = DuckDBInstance.create(':memory:', options);
    // A failed open must not poison later attempts.
    instance.catch(() => instances.delete(profile));
    instances.set(profile, instance);
  }
  return instance;
}

/**
 * Runs `fn` with a fresh connection to the shared instance of `profile` and always
 * closes the connection. The session time zone is UTC, so TIMESTAMPTZ casts and
 * date parts do not depend on the host's local time.
 */
export async function withDuckDB<T>(fn: (connection: DuckDBConnection) => Promise<T>, profile: DuckDBProfile = 'parallel'): Promise<T> {
  const connection = await (await instanceFor(profile)).connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    return await fn(connection);
  } finally {
    connection.closeSync();
  }
}

/** Runs a query and returns its rows as objects of JS values (BIGINT as bigint); for small results only. */
export async function queryRows(connection: DuckDBConnection, sql: string): Promise<Record<string, JS>[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS();
}

/** Runs a query and returns each column as an array of JS values, keyed by column name; for small results only. */
export async function queryColumns(connection: DuckDBConnection, sql: string): Promise<Record<string, JS[]>> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getColumnsObjectJS();
}
